"The `imbalance-study` command: fast argument handling, `run` for one run, argument errors, and the precision guard of `grid`."
import contextlib, io, json, subprocess, sys
from pathlib import Path
import pytest
import imbalance_study
from imbalance_study import RunConfig, run
from imbalance_study.cli import main
from imbalance_study.study.grid import grid_configs
from imbalance_study.study.store import ResultsStore

SCRIPT = Path(sys.executable).parent / 'imbalance-study'

def out_err(argv):
    "Exit code, stdout and stderr of `main(argv)` (argparse's SystemExit included)."
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try: code = main(argv)
        except SystemExit as x: code = x.code
    return code, o.getvalue(), e.getvalue()

@pytest.fixture(scope='module')
def data(fake_data): return fake_data

@pytest.mark.skipif(not SCRIPT.exists(), reason='the imbalance-study script is not installed beside this python')
def test_version_help_and_errors_answer_before_torch_loads():
    for argv, code, text in [(['--version'], 0, f'imbalance-study {imbalance_study.__version__}'), (['--help'], 0, 'run'),
                             (['grid', '--help'], 0, '--precision {auto,fp32,bf16}'), (['run', '--help'], 0, '--imbalance-ratio'),
                             (['run', '--seed', 'x'], 2, "argument --seed: invalid int value: 'x'"),
                             (['grid', '--precision', 'fp16'], 2, "invalid choice: 'fp16'"), (['train'], 2, "invalid choice: 'train'")]:
        p = subprocess.run([str(SCRIPT), *argv], capture_output=True, text=True, timeout=60)
        assert p.returncode == code and text in p.stdout + p.stderr, (argv, p.returncode, p.stdout[-500:], p.stderr[-500:])
    # the parser itself never imports torch (what keeps these answers at ~0.1 s; importing torch alone takes seconds)
    code = "import sys; sys.argv[0] = 'imbalance-study'; from imbalance_study.cli import _parser; _parser(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60).stdout.strip() == 'False'

@pytest.mark.skipif(not SCRIPT.exists(), reason='the imbalance-study script is not installed beside this python')
def test_a_closed_pipe_stops_quietly():
    "`imbalance-study study list | head -1`: the reader leaves early; the command ends with 0 and no traceback."
    p = subprocess.run(f"'{SCRIPT}' study list | head -1", shell=True, capture_output=True, text=True, timeout=300,
                       executable='/bin/bash')
    assert p.stdout.count('\n') == 1 and 'runs' in p.stdout, p.stdout
    assert 'Traceback' not in p.stderr and 'BrokenPipe' not in p.stderr, p.stderr[-800:]
    p = subprocess.run(f"set -o pipefail; '{SCRIPT}' study list | head -1 >/dev/null", shell=True, capture_output=True, text=True,
                       timeout=300, executable='/bin/bash')
    assert p.returncode == 0, p.stderr[-800:]

def test_run_prints_the_library_record(data):
    argv = ['run', '--dataset', 'retinamnist', '--profile', 'long_tail', '--strategy', 'classical+loss_reweight', '--seed', '1',
            '--budget', 'tiny', '--data-root', str(data), '--device', 'cpu', '--no-progress']
    code, out, _ = out_err(argv + ['--json'])
    assert code == 0
    rec = json.loads(out)
    lib = run(RunConfig('retinamnist', 'long_tail', augment='classical', loss_reweight=True, seed=1, budget='tiny'), root=data, device='cpu', progress=False)
    assert rec['key'] == lib.key and rec['label'] == 'classical+loss_reweight' and rec['samples_seen'] == 512
    assert rec['test']['per_class_f1'] == pytest.approx(lib.test['per_class_f1']) and rec['test']['macro_f1'] == pytest.approx(lib.test['macro_f1'])
    assert rec['wall_time_s'] > 0 and rec['train_time_s'] > 0 and rec['versions']['torch']
    code, out, _ = out_err(argv)   # the readable form
    assert code == 0 and out.startswith('classical+loss_reweight on retinamnist/long_tail, seed 1, budget tiny')
    assert 'test per-class F1:' in out and 'macro_f1' in out and 'training' in out

@pytest.mark.parametrize('extra,msg', [
    (['--strategy', 'ham'], "'ham' needs an augmentation tier"), (['--strategy', 'mixup'], "Unknown strategy 'mixup'"),
    (['--dataset', 'imagenet'], "Unknown dataset 'imagenet'"), (['--seed', '-3'], 'seed must be an integer in [0,'),
    (['--threads', '0'], '--threads must be in [1,'), (['--device', 'cuda:99'], "--device: 'cuda:99' does not exist here"),
    (['--method-args', 'alpha=1'], '--method-args needs --method'), (['--method', 'focal', '--method-args', 'phii=3'], "Unknown method_args ['phii']")])
def test_run_bad_input_exit_2(extra, msg, data, tmp_path):
    code, out, err = out_err(['run', '--budget', 'tiny', '--data-root', str(data), '--no-progress', *extra])
    assert code == 2 and msg in err and err.startswith('imbalance-study run: error:'), err
    assert out == ''   # nothing trained, nothing printed

def test_missing_extra_names_it(data, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'ray', None)   # import ray now fails as if it were not installed
    code, _, err = out_err(['grid', '--budget', 'tiny', '--executor', 'ray', '--data-root', str(data), '--store', str(tmp_path / 's.sqlite')])
    assert code == 2 and "--executor ray needs 'ray', and it is not installed: pip install 'imbalance_study[ray]'" in err, err
    assert not (tmp_path / 's.sqlite').exists()

def test_report_arguments_are_the_reports(tmp_path):
    code, out, _ = out_err(['report', '--help'])
    assert code == 0 and '--site-page' in out and 'imbalance-study report' in out
    code, _, err = out_err(['report', str(tmp_path / 'none.sqlite'), '-o', str(tmp_path / 'r.html')])
    assert code == 2 and 'No results file at' in err

@pytest.mark.parametrize('native', [False, True])
def test_grid_refuses_auto_precision_next_to_another_precision(native, data, tmp_path, monkeypatch):
    "'auto' resolving to one precision while the store holds the grid at the other only: refused, nothing written."
    import imbalance_study.core as core
    monkeypatch.setattr(core, 'native_bf16', lambda device: native)
    here, there = ('bf16', 'fp32') if native else ('fp32', 'bf16')
    store = tmp_path / 'study.sqlite'
    labels = ['baseline', 'classical', 'ema']
    with ResultsStore(store) as s: s.add(grid_configs('retinamnist', 'long_tail', labels, [0], 'tiny', precision=there))
    before = store.read_bytes()
    argv = ['grid', '--datasets', 'retinamnist', '--profiles', 'long_tail', '--strategies', *labels, '--budget', 'tiny',
            '--data-root', str(data), '--store', str(store), '--mode', 'inline', '--no-progress']
    for dry in ([], ['--dry-run']):
        code, out, err = out_err(argv + dry)
        assert code == 2, (out, err)
        assert f"holds 3 of these 3 runs in {there} and none in {here}: --precision auto resolved to {here} on this machine" in err, err
        assert ('computes bf16 natively' if native else 'has no native bf16') in err
        assert f"--precision {there} to resume them" in err and f"--precision {here} to add" in err
        assert ('emulated' in err) == (there == 'bf16')
    assert store.read_bytes() == before
    with ResultsStore(store, readonly=True) as s: assert len(s) == 3
    # an explicit precision goes ahead: resume the stored grid, or add one at this precision
    code, out, _ = out_err(argv + ['--precision', there, '--dry-run'])
    assert code == 0 and f"precision {there}); 0 already done" in out and out.count('  to run  ') == 3
    code, out, _ = out_err(argv + ['--precision', here, '--dry-run'])
    assert code == 0 and f"precision {here}); 0 already done" in out
    # a store that already holds some of the grid at this precision is resumed as usual
    with ResultsStore(store) as s: s.add(grid_configs('retinamnist', 'long_tail', ['baseline'], [0], 'tiny', precision=here))
    code, out, err = out_err(argv + ['--dry-run'])
    assert code == 0 and f"precision {here}); 0 already done" in out, err

def test_grid_auto_on_an_empty_or_matching_store_runs(data, tmp_path):
    argv = ['grid', '--datasets', 'retinamnist', '--profiles', 'full', '--strategies', 'baseline', '--budget', 'tiny',
            '--data-root', str(data), '--store', str(tmp_path / 's.sqlite'), '--mode', 'inline', '--no-progress']
    code, out, err = out_err(argv)
    assert code == 0 and '1 done, 0 failed' in out, (out, err)
    code, out, _ = out_err(argv)
    assert code == 0 and 'ran 0 now, skipped 1' in out

def test_install_metadata():
    "pyproject asks for version ranges (the exact pins live in constraints.txt), the optional parts are extras, and the LICENSE is there."
    import tomllib, re
    from imbalance_study.extras import EXTRAS
    root = Path(__file__).resolve().parents[1]
    proj = tomllib.loads((root / 'pyproject.toml').read_text())['project']
    assert not [d for d in proj['dependencies'] if '==' in d], proj['dependencies']
    names = {re.split(r'[<>=!~ \[]', d)[0].lower() for d in proj['dependencies']}
    assert {'torch', 'torchvision', 'fastai'} <= names and not names & {'ray', 'diffusers', 'pyarrow', 'kornia', 'timm'}
    extras = proj['optional-dependencies']
    assert set(EXTRAS.values()) <= set(extras) and {'all', 'dev'} <= set(extras)
    for mod, extra in EXTRAS.items(): assert any(d.startswith(mod) for d in extras[extra]), (mod, extra)
    assert {'jupyterlab', 'ipywidgets'} <= {re.split(r'[<>=]', d)[0] for d in extras['dev']}
    pins = dict(l.split('==') for l in (root / 'constraints.txt').read_text().splitlines() if '==' in l and not l.startswith('#'))
    assert pins['torch'] and pins['torchvision'] and set(EXTRAS) <= set(pins)
    assert '-c constraints.txt -e ".[all,dev]"' in (root / 'Makefile').read_text()
    lic = (root / 'LICENSE').read_text()
    assert proj['license'] == 'Apache-2.0' and 'Apache License' in lic and 'Version 2.0, January 2004' in lic and 'END OF TERMS AND CONDITIONS' in lic
