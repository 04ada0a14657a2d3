"Studies as data: the declarations, `imbalance-study study`, and the errors a study run gives before any run starts."
import contextlib, io, json, sqlite3
from pathlib import Path
from dataclasses import replace
import pytest
import imbalance_study
from imbalance_study.core import results_dir, data_root
from imbalance_study.cli import main
from imbalance_study.study.grid import full_strategies, SINGLE_STRATEGIES
from imbalance_study.study.store import ResultsStore, SCHEMA_VERSION
from imbalance_study.study.core import (Arm, Study, STUDIES, temporary_study, study_configs, study_frame, study_precision,
                                   render_study, config_identity)
from imbalance_study.study.papers import ADUNI_TABLE2
from test_cli import out_err   # exit code, stdout and stderr of the command


@pytest.fixture(scope='module')
def data(fake_data): return fake_data

def _demo(**kw):
    arms = lambda: [Arm('CE', dict(dataset='retinamnist', profile='full'), ('t',)),
                    Arm('Reweighted', dict(dataset='retinamnist', profile='full', loss_reweight=True), ('t',))]
    kw = dict(dict(budget='tiny', seeds=(0,), precision='fp32', tables={'t': lambda fr: fr.groupby('arm').test_macro_f1.mean().to_frame()}), **kw)
    return Study('demo_t', 'Demo', 'none', 'nothing', arms, **kw)

def test_the_declared_studies_and_their_run_counts():
    assert {'hierarchy', 'balanced_mixup', 'aduni', 'lct', 'generative'} <= set(STUDIES)
    h = study_configs('hierarchy', precision='fp32')
    grid = [c for c in h if c.profile == 'long_tail' and c.seed == 0]
    assert {c.label() for c in grid} == set(full_strategies())            # the grid's enumeration, read, not copied
    assert {(c.profile, c.label()) for c in h if c.seed == 2} == {(p, l) for p in ('full', 'long_tail', 'extreme_long_tail') for l in SINGLE_STRATEGIES}
    assert len(study_configs('balanced_mixup')) == 48 and len(study_configs('lct')) == 30
    a = study_configs('aduni')
    assert len(a) == 57 and len({config_identity(c) for c in a}) == 19   # Table 2's default AdUni row is Table 1's AdUni
    assert all(c.method in (None, 'balanced_softmax', 'ldam', 'crt', 'aduni') for c in a)
    t2 = [arm for arm in STUDIES['aduni'].arm_list() if 'table2' in arm.tables]
    assert [arm.name for arm in t2] == [r for r, _, _ in ADUNI_TABLE2] and {arm.fields['profile'] for arm in t2} == {'long_tail'}

def test_study_run_resumes_and_reports(tmp_path, data):
    store = tmp_path/'demo.sqlite'
    args = ['--store', str(store), '--data-root', str(data), '--mode', 'inline', '--no-progress']
    with temporary_study(_demo()):
        code, out, err = out_err(['study', 'run', 'demo_t', *args])
        assert code == 0, err
        assert '0 already done' in out and '2 done, 0 failed' in out, out
        code, out, _ = out_err(['study', 'run', 'demo_t', *args])
        assert code == 0 and '2 already done' in out and 'ran 0 now, skipped 2' in out, out
        code, out, _ = out_err(['study', 'report', 'demo_t', '--store', str(store), '--out', str(tmp_path/'out')])
        assert code == 0 and (tmp_path/'out'/'report.md').is_file(), out
        text = (tmp_path/'out'/'report.md').read_text()
        assert 'Reweighted' in text and 'precision fp32' in text and 'seeds per cell 1' in text, text
        f = study_frame('demo_t', store)
        assert sorted(f.arm) == ['CE', 'Reweighted'] and f.test_macro_f1.between(0, 1).all()

def test_a_store_keeps_its_precision_on_any_machine(tmp_path, data, monkeypatch):
    "A finished bf16 store resumed where 'auto' means fp32: 0 runs to do, not a second copy in fp32."
    s = _demo(precision='auto')
    store = tmp_path/'bf16.sqlite'
    with ResultsStore(store) as st:
        cs = study_configs(s, precision='bf16'); st.add(cs)
        for c in cs:
            st.claim(c.key())
            st.finish(dict(key=c.key(), status='done', record=dict(config=c.canonical(), val={'macro_f1': .5}, test={'macro_f1': .4},
                                                                    precision='bf16', seed=c.seed, budget=c.budget, label=c.label())))
    import imbalance_study.study.core as S
    monkeypatch.setattr(S, 'resolve_precision', lambda p, device=None: 'fp32' if p == 'auto' else p)
    assert study_precision(s, store) == 'bf16'
    with pytest.raises(ValueError, match="holds study 'demo_t' in bf16"): study_precision(s, store, 'fp32')

def test_bad_input_is_refused_before_any_run(tmp_path, data):
    code, _, e = out_err(['study', 'run', 'hierarchyy'])
    assert code == 2 and "Unknown study 'hierarchyy'; the studies are" in e and "'balanced_mixup'" in e, e
    # a store of another study
    other = tmp_path/'other.sqlite'
    with temporary_study(_demo()), temporary_study(replace(_demo(), name='demo_u')):
        assert out_err(['study', 'run', 'demo_u', '--store', str(other), '--data-root', str(data), '--mode', 'inline', '--no-progress'])[0] == 0
        n = len(ResultsStore(other, readonly=True).rows())
        code, _, e = out_err(['study', 'run', 'demo_t', '--store', str(other), '--data-root', str(data), '--mode', 'inline'])
        assert code == 2 and "holds the runs of study 'demo_u', not 'demo_t'" in e, e
        assert len(ResultsStore(other, readonly=True).rows()) == n       # nothing added
        # a store of a newer schema version
        newer = tmp_path/'newer.sqlite'
        with ResultsStore(newer): pass
        con = sqlite3.connect(newer); con.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION + 1),)); con.commit(); con.close()
        code, _, e = out_err(['study', 'run', 'demo_t', '--store', str(newer), '--data-root', str(data), '--mode', 'inline'])
        assert code == 2 and f'schema version {SCHEMA_VERSION + 1}, newer than' in e, e
        # bad seeds and budget
        code, _, e = out_err(['study', 'run', 'demo_t', '--store', str(tmp_path/'x.sqlite'), '--data-root', str(data), '--budget', 'huge'])
        assert code == 2 and 'huge' in e and not (tmp_path/'x.sqlite').exists(), e
        # generated data into a committed store (results/<study>/, the default): refused, nothing created
        code, _, e = out_err(['study', 'run', 'demo_t', '--data-root', str(data), '--mode', 'inline', '--no-progress'])
        assert code == 2 and "holds generated data for ['retinamnist']" in e and 'real datasets only' in e, e
        assert not (results_dir()/'demo_t').exists()

def test_committed_pools_come_from_the_real_data():
    "Each committed pool of the generative study was prepared from the real dataset's profile (its train counts say so)."
    from imbalance_study.data.core import load_dataset, is_generated_file
    from imbalance_study.data.profiles import make_profile
    from imbalance_study.study.papers import GEN_SETS, GEN_KINDS, GEN_DIR
    root = data_root()
    if not all((root/f'{d}.npz').is_file() and not is_generated_file(root/f'{d}.npz') for d, _ in GEN_SETS):
        pytest.skip(f'the real {[d for d, _ in GEN_SETS]} files are not in the data root {root}')
    for d, p in GEN_SETS:
        counts = make_profile(load_dataset(d, root), p, seed=0).counts()
        for k in GEN_KINDS:
            side = json.loads((results_dir()/GEN_DIR/'pools'/f'{d}_{p}_{k}.json').read_text())
            assert side['prepare']['train_counts'] == counts, (d, p, k, side['prepare']['train_counts'], counts)

def test_study_list_names_every_study():
    code, out, _ = out_err(['study', 'list'])
    assert code == 0
    for name in ('hierarchy', 'balanced_mixup', 'aduni', 'lct', 'generative'): assert f"\n{name} " in '\n' + out, out

def test_the_experiment_notebook_parses_every_config_field():
    "papermill reads every `RunConfig` field from the template's parameters cell (a comment it cannot parse drops the field)."
    import dataclasses, papermill as pm
    from imbalance_study.study.executors import template_path
    from imbalance_study.train import RunConfig
    params = pm.inspect_notebook(str(template_path()))
    missing = [f.name for f in dataclasses.fields(RunConfig) if f.name not in params]
    assert not missing, missing


def test_readme_results_are_the_committed_stores():
    "The README's study results section is what `readme_results` computes from the committed stores (run `imbalance-study study readme`)."
    from imbalance_study.study.core import readme_results, README_BEGIN, README_END
    text = (Path(__file__).resolve().parents[1]/'README.md').read_text(encoding='utf-8')
    section = text.split(README_BEGIN, 1)[1].split(README_END, 1)[0].strip()
    assert section == readme_results(), "README.md's study results differ from the committed stores: run `imbalance-study study readme`"
