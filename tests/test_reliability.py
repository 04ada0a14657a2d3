"""Reliability under faults and bad input (issue 17): no finished result lost, nothing run twice, readers that never
write, a prompt Ctrl-C, and a clear error before any work for every bad input. Small generated data, `tiny` budget."""
import hashlib, json, os, shutil, signal, sqlite3, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, pytest
from imbalance_study.cli import main
from imbalance_study.data.core import write_fake_dataset, load_dataset, fake_study_data
from imbalance_study.study.executors import LocalExecutor, run_grid, execute_run, artifact_name, StoreWriteError, SCRATCH_PREFIX
from imbalance_study.study.grid import grid_configs
from imbalance_study.study.store import ResultsStore, load_results
from imbalance_study.train import RunConfig, run

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO/'tests'/'data'/'grid112_schema1.sqlite'   # the factorial grid as first committed (schema 1, before `precision`)

@pytest.fixture(scope='module')
def data(tmp_path_factory): return fake_study_data(tmp_path_factory.mktemp('data'))   # its own copy: these tests time real runs

def _sha(p): return hashlib.sha256(Path(p).read_bytes()).hexdigest()

class NotebookExecutor(LocalExecutor):
    "The inline executor, with a notebook attached to every outcome (as papermill mode has), so that artifact writes happen."
    def wait(self):
        out = super().wait()
        for o in out: o['notebook'] = json.dumps({'cells': [], 'run': o['key']})
        return out

# ---------------------------------------------------------------- 1. a failed optional write loses nothing
def test_failed_notebook_write_keeps_the_result(tmp_path, data):
    configs = grid_configs('retinamnist', 'long_tail', 'baseline', seeds=[0, 1], budget='tiny')
    blocker = tmp_path/'artifacts'; blocker.write_text('a file where the notebooks folder should be')   # every mkdir fails
    store = ResultsStore(tmp_path/'s.sqlite')
    s = run_grid(configs, store, NotebookExecutor('inline', data_root=data), artifacts=blocker, progress=False)
    assert s.ok and s.ran == 2
    for r in store.rows():
        assert r['status'] == 'done' and r['artifact'] is None and 'notebook not saved' in r['info']['artifact_error']
    again = run_grid(configs, store, NotebookExecutor('inline', data_root=data), artifacts=tmp_path/'nb', progress=False)
    assert again.ran == 0 and again.skipped == 2                 # nothing is trained twice

def test_long_labels_make_short_artifact_names():
    c = RunConfig('retinamnist', method='focal', method_args={'alpha': [0.1] * 11, 'phi': 2.0})
    name = artifact_name(c.canonical())
    assert max(len(part) for part in name.split('/')) < 200 and c.key() in name

def test_disk_full_while_storing_keeps_finished_runs(tmp_path, data, monkeypatch):
    configs = grid_configs('retinamnist', 'long_tail', 'baseline', seeds=[0, 1, 2], budget='tiny')
    store = ResultsStore(tmp_path/'s.sqlite')
    real, calls = ResultsStore.finish, []
    def finish(self, o):
        calls.append(o['key'])
        if len(calls) == 2: raise sqlite3.OperationalError('database or disk is full')
        return real(self, o)
    monkeypatch.setattr(ResultsStore, 'finish', finish)
    with pytest.raises(StoreWriteError, match='is the disk full'):
        run_grid(configs, store, LocalExecutor('inline', data_root=data), progress=False)
    assert store.counts()['done'] == 1                           # the first run is kept
    monkeypatch.setattr(ResultsStore, 'finish', real)
    ran = []
    s = run_grid(configs, ResultsStore(tmp_path/'s.sqlite'), LocalExecutor('inline', data_root=data), progress=False,
                 on_outcome=lambda o: ran.append(o['key']))
    assert s.ok and len(ran) == 2 and calls[0] not in ran         # the finished run is not redone

# ---------------------------------------------------------------- 2. one key per piece of work
def test_equal_configs_have_equal_keys_and_bad_fields_are_refused():
    assert RunConfig(budget='smoke', width=16).key() == RunConfig(budget='smoke').key()
    for bad, msg in [(dict(seed=True), 'seed must be an integer'), (dict(method_args={'gamma': 2}), 'given without a method'),
                     (dict(width=True), 'width must be an integer'), (dict(profile_seed='x'), 'profile_seed must be an integer'),
                     (dict(seed=2**63 - 1), 'seed must be an integer in [0, 2147483647]'),
                     (dict(method='focal', method_args={'phii': 3}), "Unknown method_args ['phii']")]:
        with pytest.raises(ValueError, match=None) as e: RunConfig(**bad).validate()
        assert msg in str(e.value), (bad, str(e.value))

def test_reset_running_never_overrules_a_live_driver(tmp_path):
    from imbalance_study.study.store import owner_tag
    store = ResultsStore(tmp_path/'s.sqlite')
    c = RunConfig(budget='tiny'); store.add([c]); store.claim(c.key())
    store.con.execute("UPDATE runs SET owner = ? WHERE key = ?", (owner_tag(os.getppid()), c.key()))   # alive, this host
    assert store.reset_stale(force=True) == [] and store.get(c.key())['status'] == 'running'

def test_two_drivers_on_one_store_train_every_key_once(tmp_path, data):
    "Two drivers start together on the same grid: the atomic claim makes each run train exactly once."
    log = tmp_path/'ran.log'
    code = ("import sys; from imbalance_study.study.grid import grid_configs; from imbalance_study.study.store import ResultsStore;"
            "from imbalance_study.study.executors import LocalExecutor, run_grid;"
            f"c = grid_configs('retinamnist', ['long_tail', 'extreme_long_tail'], 'baseline', seeds=[0, 1, 2, 3], budget='tiny');"
            f"run_grid(c, ResultsStore({str(tmp_path/'s.sqlite')!r}), LocalExecutor('inline', data_root={str(data)!r}), progress=False,"
            f" on_outcome=lambda o: open({str(log)!r}, 'a').write(o['key'] + '\\n'))")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, '-c', code], env=env) for _ in range(2)]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    keys = log.read_text().split()
    assert len(keys) == 8 and len(set(keys)) == 8
    with ResultsStore(tmp_path/'s.sqlite', readonly=True) as s: assert s.counts()['done'] == 8

# ---------------------------------------------------------------- 3-4. data checked at load
def test_empty_splits_are_refused_before_training(tmp_path):
    write_fake_dataset('retinamnist', tmp_path, train_counts=[0] * 5)
    with pytest.raises(ValueError, match='the train split'): load_dataset('retinamnist', root=tmp_path)
    write_fake_dataset('retinamnist', tmp_path, val_counts=[0] * 5)
    with pytest.raises(ValueError, match='the val split'): load_dataset('retinamnist', root=tmp_path)

def test_wrong_or_broken_dataset_files(tmp_path):
    from medmnist import INFO
    n = INFO['pneumoniamnist']['n_samples']
    np.savez_compressed(tmp_path/'breastmnist.npz', **{f'{s}_{k}': (np.zeros((n[s], 28, 28), np.uint8) if k == 'images' else np.zeros((n[s], 1), np.uint8))
                                                       for s in ('train', 'val', 'test') for k in ('images', 'labels')})
    with pytest.raises(ValueError, match='probably pneumoniamnist.npz renamed'): load_dataset('breastmnist', root=tmp_path)
    good = write_fake_dataset('retinamnist', tmp_path)
    good.write_bytes(good.read_bytes()[:200])                    # truncated
    with pytest.raises(ValueError, match='not a readable .npz file'): load_dataset('retinamnist', root=tmp_path)
    (tmp_path/'cifar-10-batches-py').mkdir(); write_fake_dataset('cifar10', tmp_path)
    assert load_dataset('cifar10', root=tmp_path).source_file.endswith('cifar10.npz')

# ---------------------------------------------------------------- 5. readers never write
@pytest.mark.parametrize('journal', ['wal', 'delete'])
def test_readers_leave_the_store_bytes_alone(tmp_path, journal, capsys):
    db = tmp_path/'results.sqlite'; shutil.copy(COMMITTED, db)
    if journal == 'delete':
        con = sqlite3.connect(db); con.execute('PRAGMA journal_mode=DELETE'); con.close()
    before = _sha(db)
    assert main(['status', '--store', str(db)]) == 0
    assert main(['export', '--store', str(db), '--what', 'results', '--out', str(tmp_path/'r.csv')]) == 0
    assert len(load_results(db)) == 112
    assert _sha(db) == before
    with ResultsStore(db, readonly=True) as s: assert {r['precision'] for r in s.rows()} == {'fp32'}   # schema 1, read as it is

def test_foreign_and_newer_stores_are_refused(tmp_path, capsys):
    other = tmp_path/'other.db'
    con = sqlite3.connect(other); con.execute('CREATE TABLE t (x)'); con.commit(); con.close()
    before = _sha(other)
    assert main(['status', '--store', str(other)]) == 2
    assert 'not a results store' in capsys.readouterr().err
    with pytest.raises(ValueError, match='not a results store'): ResultsStore(other)
    assert _sha(other) == before
    newer = tmp_path/'newer.sqlite'
    with ResultsStore(newer) as s: s.con.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(ValueError, match='schema version 99, newer'): ResultsStore(newer)
    with pytest.raises(ValueError, match='schema version 99, newer'): ResultsStore(newer, readonly=True)

def test_a_schema_1_store_is_migrated_by_a_writer_and_resumes(tmp_path):
    db = tmp_path/'results.sqlite'; shutil.copy(COMMITTED, db)
    with ResultsStore(db) as s:
        rows = s.rows()
        assert len(rows) == 112 and {r['precision'] for r in rows} == {'fp32'}
        assert all(RunConfig(**r['config']).key() == r['key'] for r in rows)   # migrated configs keep their keys
        assert s.con.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0] == '2'

# ---------------------------------------------------------------- 6. Ctrl-C
@pytest.mark.parametrize('to', ['driver', 'process group'])
def test_ctrl_c_stops_a_papermill_grid_promptly(tmp_path, data, to):
    "SIGINT (to the driver, or to its process group as a terminal's Ctrl-C) while two smoke-budget papermill runs train: exit 130 within seconds, both runs given back, no scratch left."
    store = tmp_path/'s.sqlite'
    env = dict(os.environ, IMBALANCE_STUDY_DATA=str(data), PYTHONPATH=str(REPO), PYTHONUNBUFFERED='1')
    argv = [sys.executable, '-m', 'imbalance_study.cli', 'grid', '--profiles', 'long_tail', '--strategies', 'baseline', 'ema',
            '--seeds', '0', '--budget', 'smoke', '--mode', 'papermill', '--workers', '2', '--store', str(store), '--no-progress']
    # SIGINT at its default, as in a terminal: a test run started in the background of a non-interactive shell inherits it ignored
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline:                                 # wait until both runs are in flight
        if store.exists():
            try:
                with ResultsStore(store, readonly=True) as s:
                    if s.counts()['running'] == 2: break
            except ValueError: pass                               # the driver is still writing the new store's schema
        time.sleep(0.5)
    time.sleep(10)                                                # the kernels have started and are training (a smoke run takes minutes)
    assert p.poll() is None
    t0 = time.time()
    if to == 'driver': p.send_signal(signal.SIGINT)
    else: os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    took = time.time() - t0
    print(f"SIGINT to the {to}: exit {p.returncode} after {took:.1f}s")
    assert p.returncode == 130, (out, err)
    assert took < 20, took
    assert 'interrupted' in err and 'Rerun the same command to resume' in err and 'Traceback' not in err
    with ResultsStore(store) as s: assert s.counts() == dict(pending=2, running=0, done=0, failed=0)   # (a writer: it recovers the WAL)
    left = [d for d in Path(tempfile.gettempdir()).glob(SCRATCH_PREFIX + '*') if d.name.split('_')[2] == str(p.pid)]
    assert not left

# ---------------------------------------------------------------- 7. bad input refused before anything is written
@pytest.mark.parametrize('extra,msg', [
    (['--seeds', '99999999999999999999'], 'seed must be an integer in [0, 2147483647]'),
    (['--threads', '0'], '--threads must be in [1,'),
    (['--devices', 'cuda:0'], "--devices: 'cuda:0' does not exist here"),
    (['--strategies', 'focal(phii=3)'], "Unknown method_args ['phii']"),
    (['--workers', '1000'], '--workers must be in [1,'),
    (['--workers', '-1'], '--workers must be in [1,'),
    (['--runs-per-gpu', '0'], '--runs-per-gpu must be >= 1'),
    (['--profiles', 'all', 'long_tail'], "'all' selects every profile"),
])
def test_bad_cli_input_writes_nothing(tmp_path, data, capsys, extra, msg):
    if extra[:2] == ['--devices', 'cuda:0']:
        import torch
        if torch.cuda.is_available(): pytest.skip('a GPU is visible')
    store = tmp_path/'study.sqlite'
    argv = ['grid', '--profiles', 'long_tail', '--strategies', 'baseline', '--budget', 'tiny', '--data-root', str(data),
            '--store', str(store), '--mode', 'inline']
    assert main(argv + extra + ['--dry-run']) == 2
    assert msg in capsys.readouterr().err
    assert main(argv + extra) == 2
    capsys.readouterr()
    assert not store.exists() and not (tmp_path/'study_notebooks').exists()

def test_dry_run_writes_nothing(tmp_path, data, capsys):
    store = tmp_path/'study.sqlite'
    assert main(['grid', '--profiles', 'long_tail', '--strategies', 'baseline', '--budget', 'tiny', '--data-root', str(data),
                 '--store', str(store), '--dry-run']) == 0
    assert 'projected wall time' in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []

def test_report_and_export_say_what_is_wrong_before_work(tmp_path, data, capsys):
    store = tmp_path/'s.sqlite'
    with ResultsStore(store) as s:
        c = RunConfig(budget='tiny'); s.add([c]); s.claim(c.key()); s.finish(dict(key=c.key(), status='failed', error='boom'))
    assert main(['report', str(store), '-o', str(tmp_path/'r.html')]) == 2
    err = capsys.readouterr().err
    assert 'no finished runs to report (1 failed)' in err and 'Traceback' not in err
    assert main(['report', str(store), '-o', str(tmp_path)]) == 2
    assert 'is a folder' in capsys.readouterr().err
    assert main(['export', '--store', str(store), '--out', str(tmp_path)]) == 2
    assert 'is a folder' in capsys.readouterr().err

def test_ray_bad_address_fails_fast():
    from imbalance_study.study.executors import _check_reachable
    t0 = time.time()
    with pytest.raises(ValueError, match='Nothing answers at Ray address'): _check_reachable('127.0.0.1:1', timeout=5)
    assert time.time() - t0 < 15
    with pytest.raises(ValueError, match='not of the form host:port'): _check_reachable('nonsense')

def test_a_store_missing_a_column_is_refused_before_any_run(tmp_path):
    db = tmp_path/'s.sqlite'
    with ResultsStore(db) as s: s.con.execute('ALTER TABLE runs DROP COLUMN test_group_f1')
    with pytest.raises(ValueError, match=r"lacks the columns \['test_group_f1'\]"): ResultsStore(db)

def test_claim_refuses_a_done_run(tmp_path):
    "The atomic check itself: a run that is done (or held) cannot be claimed again, whatever the caller's list says."
    store = ResultsStore(tmp_path/'s.sqlite')
    c = RunConfig(budget='tiny'); store.add([c])
    assert store.claim(c.key()) and not store.claim(c.key())                       # held
    store.finish(dict(key=c.key(), status='done', record=None))
    assert not store.claim(c.key()) and not store.claim(c.key(), retry_failed=False)   # done
