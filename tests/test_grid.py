"The grid runner end to end: kill and resume, Ray = local, failures recorded, bad input refused before any run."
import json, os, signal, sqlite3, subprocess, sys, time
from pathlib import Path
import pytest
from imbalance_study.cli import main
from imbalance_study.study.store import ResultsStore, load_results
from imbalance_study.train import STRATEGIES

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='module')
def data(fake_data): return fake_data

def _env(data, extra_path=None):
    env = dict(os.environ, IMBALANCE_STUDY_DATA=str(data), PYTHONUNBUFFERED='1')
    env['PYTHONPATH'] = os.pathsep.join(p for p in [str(extra_path or ''), str(REPO), env.get('PYTHONPATH', '')] if p)
    return env

def _cli(*args): return [sys.executable, '-m', 'imbalance_study.cli', *map(str, args)]

def _grid_args(store, seeds=(0, 1, 2), profiles=('long_tail', 'extreme_long_tail'), mode='inline'):
    return ['grid', '--datasets', 'retinamnist', '--profiles', *profiles, '--strategies', 'baseline', '--seeds', *map(str, seeds),
            '--budget', 'tiny', '--mode', mode, '--store', str(store), '--no-progress']

def _metrics(store_path) -> dict:
    "key -> the stored outcome that must not depend on how the grid got there."
    with ResultsStore(store_path) as s:
        return {r['key']: (r['status'], r['metrics'], r['samples_seen'], r['history']) for r in s.rows()}

def test_kill_and_resume_every_run_once(tmp_path, data, monkeypatch, capsys):
    monkeypatch.setenv('IMBALANCE_STUDY_DATA', str(data))
    clean = tmp_path/'clean.sqlite'
    assert main(_grid_args(clean)) == 0                       # the reference: a grid that nobody interrupts
    ref = _metrics(clean)
    assert len(ref) == 6 and all(v[0] == 'done' for v in ref.values())

    store = tmp_path/'killed.sqlite'
    p = subprocess.Popen(_cli(*_grid_args(store)), env=_env(data), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    done, t0 = 0, time.time()
    while time.time() - t0 < 120 and p.poll() is None:       # kill it once some, not all, runs are done
        if store.exists():
            try: done = sqlite3.connect(store).execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0]
            except sqlite3.Error: done = 0
            if 1 <= done < 6: break
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    with ResultsStore(store) as s: counts = s.counts()
    assert 1 <= counts['done'] < 6, counts                    # killed mid-way
    assert counts['running'] + counts['pending'] == 6 - counts['done']

    assert main(_grid_args(store)) == 0                       # the same command again (in process: saves an interpreter start)
    out = capsys.readouterr().out
    assert f"ran {6 - counts['done']} now, skipped {counts['done']}" in out, out
    got = _metrics(store)
    assert got == ref                                          # every run exactly once (same keys), numbers of the clean grid
    rows = sqlite3.connect(store).execute('SELECT key, COUNT(*) FROM runs GROUP BY key').fetchall()
    assert len(rows) == 6 and all(n == 1 for _, n in rows)

@pytest.mark.ray
def test_ray_executor_matches_local(tmp_path, data, monkeypatch):
    monkeypatch.setenv('IMBALANCE_STUDY_DATA', str(data))
    args = dict(seeds=(0, 1), profiles=('long_tail',))
    assert main(_grid_args(tmp_path/'local.sqlite', **args)) == 0
    assert main(_grid_args(tmp_path/'ray.sqlite', **args) + ['--executor', 'ray', '--ray-cpus', '2']) == 0
    local, ray_ = load_results(tmp_path/'local.sqlite'), load_results(tmp_path/'ray.sqlite')
    assert len(local) == 2 and sorted(local.key) == sorted(ray_.key)
    assert _metrics(tmp_path/'local.sqlite') == _metrics(tmp_path/'ray.sqlite')
    with ResultsStore(tmp_path/'ray.sqlite') as s: assert {r['executor'] for r in s.rows()} == {'ray'}

PLUGIN = '''
import torch.nn.functional as F
from imbalance_study.train import register_strategy
class NaNLoss:
    def __call__(self, pred, y): return F.cross_entropy(pred, y) * float('nan')
register_strategy('nan_loss', lambda plan, args: setattr(plan, 'loss_func', NaNLoss()), order=95, doc='test only: a loss that is NaN')
'''

def test_failed_run_recorded_and_grid_goes_on(tmp_path, data, monkeypatch, capsys):
    "Papermill mode (the CLI's default): a strategy from a plugin module makes one run's loss NaN; the other run finishes."
    (tmp_path/'plug').mkdir(); (tmp_path/'plug'/'nan_plugin.py').write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path/'plug'))         # the driver imports the plugin ...
    for k, v in _env(data, tmp_path/'plug').items(): monkeypatch.setenv(k, v)   # ... and so does each run's kernel
    saved = dict(STRATEGIES)
    store = tmp_path/'study.sqlite'
    args = ['grid', '--datasets', 'retinamnist', '--profiles', 'long_tail', '--strategies', 'nan_loss', 'baseline', '--seeds', '0',
            '--budget', 'tiny', '--store', str(store), '--plugin', 'nan_plugin', '--no-progress']
    try: code = main(args)
    finally: STRATEGIES.clear(); STRATEGIES.update(saved)
    out = capsys.readouterr().out
    assert code == 1, out
    assert 'FAILED retinamnist/long_tail nan_loss seed 0: NonFiniteLossError' in out, out
    with ResultsStore(store) as s:
        rows = {x['label']: x for x in s.rows()}
    assert rows['baseline']['status'] == 'done' and rows['nan_loss']['status'] == 'failed'
    assert 'training loss became nan' in rows['nan_loss']['error']
    for x in rows.values():                                    # executed notebooks kept, the failed one with its error
        nb = json.loads(Path(x['artifact']).read_text())
        assert any('injected-parameters' in c['metadata'].get('tags', []) for c in nb['cells'])
    assert 'NonFiniteLossError' in Path(rows['nan_loss']['artifact']).read_text()
    assert rows['baseline']['code_version'] and rows['baseline']['versions']['torch']

@pytest.mark.parametrize('extra,msg', [
    (['--datasets', 'imagenet'], "Unknown dataset 'imagenet'"),
    (['--profiles', 'longtail'], 'valid profiles'),
    (['--strategies', 'hem+ham'], "'ham' needs an augmentation tier"),
    (['--strategies', 'classical+mixup'], "Unknown strategy 'mixup'"),
    (['--budget', 'week'], 'valid budgets'),
    (['--datasets', 'pathmnist'], "No data for ['pathmnist']"),
    (['--plugin', 'no_such_plugin_module'], "Cannot import plugin module 'no_such_plugin_module'"),
])
def test_bad_input_fails_before_any_run(tmp_path, data, capsys, extra, msg):
    store = tmp_path/'study.sqlite'
    argv = ['grid', '--profiles', 'long_tail', '--strategies', 'baseline', '--budget', 'tiny', '--data-root', str(data),
            '--store', str(store), '--mode', 'inline']
    assert main(argv + extra) == 2
    assert msg in capsys.readouterr().err
    assert not store.exists()                                  # nothing ran, nothing was written

def test_unregistered_strategy_and_unwritable_store(tmp_path, data, capsys, monkeypatch):
    monkeypatch.delitem(STRATEGIES, 'ema', raising=False)
    base = ['grid', '--profiles', 'long_tail', '--budget', 'tiny', '--data-root', str(data), '--mode', 'inline']
    assert main(base + ['--strategies', 'baseline', 'ema', '--store', str(tmp_path/'a.sqlite')]) == 2
    assert "Strategies not registered: ['ema']" in capsys.readouterr().err
    assert not (tmp_path/'a.sqlite').exists()
    assert main(base + ['--strategies', 'baseline', '--store', '/proc/imbalance/study.sqlite']) == 2
    assert 'Cannot write the store folder' in capsys.readouterr().err
    ro = tmp_path/'ro'; ro.mkdir(); ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):                         # (root can write anywhere)
            assert main(base + ['--strategies', 'baseline', '--store', str(ro/'study.sqlite')]) == 2
            assert 'Cannot write the store folder' in capsys.readouterr().err
    finally: ro.chmod(0o700)
