"""Issue 16: the data root on any machine (download with MD5, offline errors), own datasets (image folder, CSV, npz)
usable by name or path in `RunConfig` and the grid, profiles for any dataset, MedMNIST+ sizes, architectures (timm),
and AUC in every record. Everything on small generated data; each test takes seconds."""
import csv, os, shutil, urllib.error
import numpy as np, pytest, torch
import imbalance_study
from medmnist import INFO
from imbalance_study.data import core as D
from imbalance_study.core import data_root, DATA_ENV, DEFAULT_DATA_ROOT
from imbalance_study.data.core import (load_dataset, write_fake_dataset, write_fake_image_folder, register_dataset, unregister_dataset,
                                  MEDMNIST_SIZES, DatasetFileError, DatasetNotFoundError, REGISTRY_FILE)
from imbalance_study.data.profiles import make_profile, long_tail_counts, dataset_groups
from imbalance_study.models import create_model, stem_for_size, register_arch, ARCHS
from imbalance_study.train import RunConfig, run
from imbalance_study.study.store import ResultsStore
from imbalance_study.study.executors import run_grid, LocalExecutor, execute_run

TINY = dict(budget='tiny', precision='fp32')

# ---------------------------------------------------------------- data root and download
def test_data_root_order(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path/'env'))
    assert data_root() == tmp_path/'env' and data_root(tmp_path/'arg') == tmp_path/'arg'
    monkeypatch.delenv(DATA_ENV)
    (tmp_path/'shared'/'data').mkdir(parents=True); (tmp_path/'clone').mkdir()
    monkeypatch.chdir(tmp_path/'clone')
    assert data_root() == (tmp_path/'shared'/'data').resolve()
    monkeypatch.setattr(imbalance_study.core, 'repo_root', lambda: None)
    monkeypatch.chdir(tmp_path)   # no ../shared/data beside the working folder, no repository: the cache
    assert data_root() == DEFAULT_DATA_ROOT

def _fake_network(src):
    def download(url, path): shutil.copy(src, path)
    return download

def test_download_copies_and_checks_md5(tmp_path, monkeypatch):
    src = write_fake_dataset('retinamnist', tmp_path/'elsewhere', train_counts=[3] * 5, val_counts=[1] * 5, test_counts=[1] * 5, size=64)
    monkeypatch.setattr(D, '_download_url', _fake_network(src))
    root = tmp_path/'root'
    with pytest.raises(DatasetFileError, match=f"expected {INFO['retinamnist']['MD5_64']}; nothing was kept"):
        load_dataset('retinamnist', root=root, size=64, download=True)
    assert not root.exists() or not list(root.iterdir())
    monkeypatch.setitem(INFO['retinamnist'], 'MD5_64', D._md5(src))
    ds = load_dataset('retinamnist', root=root, size=64, download=True)
    assert (root/'retinamnist_64.npz').exists() and ds.train.x.shape[1:] == (3, 64, 64)
    assert D.fetch_dataset('retinamnist', root=root, size=64) == root/'retinamnist_64.npz'   # present: nothing fetched

def test_offline_error_names_file_url_folder(tmp_path, monkeypatch):
    def offline(url, path): raise urllib.error.URLError('Name or service not known')
    monkeypatch.setattr(D, '_download_url', offline)
    with pytest.raises(DatasetNotFoundError) as e: load_dataset('pathmnist', root=tmp_path/'d', size=128, download=True)
    msg = str(e.value)
    assert "'pathmnist_128.npz'" in msg and INFO['pathmnist']['url_128'] in msg and str(tmp_path/'d') in msg
    with pytest.raises(DatasetNotFoundError, match="cifar-10-python.tar.gz"): load_dataset('cifar10', root=tmp_path/'d', download=True)
    with pytest.raises(DatasetNotFoundError, match="which fetches " + INFO['organcmnist']['url'].replace('?', r'\?')):
        load_dataset('organcmnist', root=tmp_path/'d')   # without download: the same facts, and how to download

# ---------------------------------------------------------------- MedMNIST+ sizes and models
@pytest.mark.parametrize('size', MEDMNIST_SIZES)
def test_medmnist_sizes(tmp_path, size):
    f = write_fake_dataset('breastmnist', tmp_path, train_counts=[3, 3], val_counts=[1, 1], test_counts=[1, 1], size=size)
    assert f.name == ('breastmnist.npz' if size == 28 else f'breastmnist_{size}.npz')
    ds = load_dataset('breastmnist', root=tmp_path, size=size)
    assert ds.train.x.shape[1:] == (1, size, size) and ds.info.size == size
    m = create_model('resnet18_small', 2, 1, width=4, size=size)
    assert m(ds.train.x.float() / 255).shape == (6, 2)
    assert m.stem(m.normalize(ds.train.x.float() / 255)).shape[-1] in (28, 32, 56)

def test_size_not_shipped():
    with pytest.raises(ValueError, match=r"ships retinamnist at \[28, 64, 128, 224\] px, not 96"): load_dataset('retinamnist', size=96)
    with pytest.raises(ValueError, match="ships at 32 px only"): RunConfig('cifar10', size=64).validate()

# ---------------------------------------------------------------- own datasets
def test_folder_dataset_runs_by_path_with_long_tail(tmp_path):
    folder = write_fake_image_folder(tmp_path/'f', counts=(30, 30, 30, 30), size=12)
    cfg = RunConfig(str(folder), 'long_tail', imbalance_ratio=10, **TINY)
    r = run(cfg, progress=False)
    full = load_dataset(str(folder)).counts('train')
    assert r.info['train_counts'] == list(long_tail_counts(full, 10))
    assert r.info['train_counts'][0] / r.info['train_counts'][-1] >= 10
    for split in ('val', 'test'): assert 0 <= r.__dict__[split]['auc'] <= 1 and len(r.__dict__[split]['per_class_auc']) == 4
    assert r.config['imbalance_ratio'] == 10.0
    # a different ratio or explicit counts: other counts, other keys
    keys = {cfg.key(), RunConfig(str(folder), 'long_tail', imbalance_ratio=5, **TINY).key(),
            RunConfig(str(folder), 'custom', counts=[10, 5, 5, 2], **TINY).key(), RunConfig(str(folder), 'custom', counts=[10, 5, 5, 3], **TINY).key()}
    assert len(keys) == 4

def test_csv_and_npz_and_gray(tmp_path):
    gray = write_fake_image_folder(tmp_path/'g', counts=(6, 4, 4), mode='L', splits=True)
    rows = [(str(p.relative_to(gray)), p.parent.name, p.parts[-3]) for p in sorted(gray.rglob('*.png'))]
    with open(gray/'t.csv', 'w', newline='') as f: csv.writer(f).writerows([('path', 'label', 'split'), *rows])
    a, b = load_dataset(str(gray)), load_dataset(str(gray/'t.csv'))
    assert a.info.channels == 1 and torch.equal(a.train.x, b.train.x) and a.counts('val') == [2, 2, 2]
    rng = np.random.default_rng(0)
    arrs = dict(train_images=rng.integers(0, 255, (30, 10, 10, 3), dtype=np.uint8), train_labels=np.arange(30) % 3)
    info = register_dataset('own_npz', arrs, root=tmp_path, val_frac=0.2, test_frac=0.2)
    ds = load_dataset('own_npz', root=tmp_path)
    assert (info.n_classes, info.channels, info.size) == (3, 3, 10) and ds.counts('test') == [2, 2, 2] and ds.counts('val') == [2, 2, 2]
    unregister_dataset('own_npz', root=tmp_path)
    with pytest.raises(ValueError, match="Unknown dataset 'own_npz'"): load_dataset('own_npz', root=tmp_path)

def test_bad_own_data(tmp_path):
    with pytest.raises(DatasetFileError, match=r"found 1 class \['class_0'\].*at least 2"):
        RunConfig(str(write_fake_image_folder(tmp_path/'one', counts=(4,))), **TINY).validate()
    broken = write_fake_image_folder(tmp_path/'broken', counts=(3, 3))
    (broken/'class_0'/'x.jpg').write_bytes(b'\x00garbage')
    with pytest.raises(DatasetFileError, match="not readable.*x.jpg"): run(RunConfig(str(broken), **TINY), progress=False)
    (tmp_path/'missing.csv').write_text(f"path,label\n{broken/'class_1'/'class_1_0.png'},b\nnot_there.png,a\n")
    with pytest.raises(DatasetNotFoundError, match="1 of 2 image paths do not exist"): load_dataset(str(tmp_path/'missing.csv'))
    (tmp_path/'labels.csv').write_text(f"path,label\n{broken/'class_1'/'class_1_0.png'},b\n{broken/'class_1'/'class_1_1.png'},zebra\n")
    with pytest.raises(DatasetFileError, match=r"labels \['zebra'\] are not in the given classes"):
        register_dataset('lbl', tmp_path/'labels.csv', root=tmp_path, classes=['a', 'b'])
    ok = write_fake_image_folder(tmp_path/'ok', counts=(10, 10))
    with pytest.raises(ValueError, match="imbalance_ratio must be a number >= 1"): RunConfig(str(ok), 'long_tail', imbalance_ratio=0.9, **TINY).validate()
    with pytest.raises(ValueError, match="class 1 needs 50 train images but the split holds 7"):
        run(RunConfig(str(ok), 'custom', counts=[5, 50], **TINY), progress=False)
    with pytest.raises(ValueError, match="give imbalance_ratio= with profile 'long_tail'"): RunConfig(str(ok), 'long_tail', **TINY).validate()

def test_registered_name_in_grid_inline_and_papermill(tmp_path, monkeypatch):
    "A registered name is found from the data root's datasets.json by a fresh process: the papermill kernel here."
    monkeypatch.setenv(DATA_ENV, str(tmp_path/'data'))
    folder = write_fake_image_folder(tmp_path/'imgs', counts=(16, 16), size=8)
    register_dataset('my_derm', folder)
    assert (tmp_path/'data'/REGISTRY_FILE).exists()
    D._REGISTERED.clear()   # as a new process would start
    configs = [RunConfig('my_derm', 'long_tail', imbalance_ratio=4, **TINY), RunConfig('my_derm', 'full', **TINY)]
    with ResultsStore(tmp_path/'s.sqlite') as store:
        s = run_grid(configs[:1], store, LocalExecutor('inline'), progress=False)
        assert s.counts.get('done') == 1, s.failed
        row = store.get(configs[0].key())
        assert row['metrics']['test']['auc'] == row['metrics']['test']['auc'] and row['config']['imbalance_ratio'] == 4.0
    out = execute_run(configs[1].canonical(), mode='papermill', device='cpu')
    assert out['status'] == 'done', out['error']
    assert out['record']['key'] == configs[1].key() and 'auc' in out['record']['test']

def test_grid_command_on_an_image_folder_with_the_long_tail_rule(tmp_path):
    "`imbalance-study grid` on a user's folder: the long-tail rule by ratio and custom counts from the command line, into a store."
    import contextlib, io
    from imbalance_study.cli import main
    folder = write_fake_image_folder(tmp_path/'imgs', counts=(20, 20, 20), size=8)
    store = tmp_path/'g.sqlite'
    base = ['grid', '--datasets', str(folder), '--strategies', 'baseline', 'loss_reweight', '--budget', 'tiny', '--precision', 'fp32',
            '--mode', 'inline', '--store', str(store), '--no-progress', '--data-root', str(tmp_path/'data')]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([*base, '--profiles', 'long_tail', '--imbalance-ratio', '4']) == 0
        assert main([*base, '--profiles', 'custom', '--counts', '12', '6', '3']) == 0
    with ResultsStore(store, readonly=True) as s: rows = s.rows(status='done')
    got = sorted((r['config']['profile'], r['config'].get('imbalance_ratio'), tuple(r['config'].get('counts') or ()), r['label']) for r in rows)
    assert got == [('custom', None, (12, 6, 3), 'baseline'), ('custom', None, (12, 6, 3), 'loss_reweight'),
                   ('long_tail', 4.0, (), 'baseline'), ('long_tail', 4.0, (), 'loss_reweight')], got
    assert all(r['info']['train_counts'] == [12, 6, 3] for r in rows if r['config']['profile'] == 'custom')
    err = io.StringIO()
    with contextlib.redirect_stderr(err): assert main([*base, '--profiles', 'custom', '--counts', '12', '6']) == 2
    assert 'count' in err.getvalue(), err.getvalue()

# ---------------------------------------------------------------- architectures
def test_timm_arch_trains_and_keys(tmp_path):
    pytest.importorskip('timm')
    write_fake_dataset('breastmnist', tmp_path, train_counts=[20, 30], val_counts=[5, 5], test_counts=[5, 5])
    r = run(RunConfig('breastmnist', arch='test_vit', **TINY), root=tmp_path, progress=False)
    assert r.info['arch'] == 'test_vit' and r.samples_seen == 512 and 0 <= r.test['auc'] <= 1
    assert r.config['arch'] == 'test_vit' and RunConfig(**r.config).key() == r.key
    with pytest.raises(ValueError, match="Unknown arch 'vit_nonexistent_xyz'"): RunConfig(arch='vit_nonexistent_xyz').validate()

def test_feature_strategies_refuse_archs_without_features():
    register_arch('plain_mlp', lambda n, c, w, mean, std, size: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(c * size * size, n)), features=False)
    try:
        with pytest.raises(ValueError, match=r"\['aduni'\] build on the model's features.*arch 'plain_mlp'.*supported: \['resnet18_small'\]"):
            RunConfig('breastmnist', method='aduni', arch='plain_mlp').validate()
        with pytest.raises(ValueError, match=r"\['lct'\] build on the model's features"): RunConfig('breastmnist', method='lct', arch='plain_mlp').validate()
        RunConfig('breastmnist', method='lct', method_args={'film': False}, arch='plain_mlp').validate()
        RunConfig('breastmnist', method='aduni').validate()
    finally: ARCHS.pop('plain_mlp')

# ---------------------------------------------------------------- keys of the committed stores
PINNED = {  # RunConfig(...).key() before issue 16 (the results/ stores are keyed by them)
    '2d7922a644cf9abc': dict(dataset='retinamnist', profile='long_tail', budget='smoke', precision='fp32'),
    'da519917b3645438': dict(dataset='cifar10', profile='extreme_long_tail', augment='trivialaugment', ham=True, ema=True, seed=2, budget='smoke', precision='bf16'),
    '421c87cd9597084f': dict(dataset='organcmnist', profile='full', hem=True, batch_balance=True, width=32, budget='tiny', precision='fp32'),
    'd2c9cbaad9583566': dict(dataset='pathmnist', method='balanced_mixup', method_args={'alpha': 0.2}, budget='smoke', precision='fp32'),
}

@pytest.mark.parametrize('key', list(PINNED))
def test_keys_unchanged(key):
    c = RunConfig(**PINNED[key])
    assert c.key() == key and RunConfig(**PINNED[key], arch='resnet18_small').key() == key
    assert not {'arch', 'size', 'counts', 'imbalance_ratio'} & set(c.canonical())
