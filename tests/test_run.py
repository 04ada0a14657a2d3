"The training protocol end to end: determinism and bad configurations."
import pytest
from imbalance_study import RunConfig, run, load_dataset

@pytest.fixture(scope='module')
def retina(fake_data): return load_dataset('retinamnist', root=fake_data)

def test_same_config_same_seed_identical_metrics(retina):
    cfg = RunConfig('retinamnist', 'extreme_long_tail', budget='tiny', seed=3)
    a, b = run(cfg, data=retina, progress=False), run(cfg, data=retina, progress=False)
    assert a.test == b.test and a.val == b.val and a.history == b.history
    assert a.samples_seen == 512 and a.info['train_counts'] == [400, 10, 200, 15, 5]

def test_record_fields(retina):
    r = run(RunConfig('retinamnist', 'full', budget='tiny'), data=retina, progress=False)
    d = r.to_dict()
    for k in ('config', 'seed', 'budget', 'val', 'test', 'samples_seen', 'wall_time_s', 'versions', 'git_commit'):
        assert k in d
    assert d['versions']['torch'] and d['budget'] == 'tiny'
    assert 0 <= d['test']['macro_f1'] <= 1 and len(d['test']['per_class_f1']) == 5

@pytest.mark.parametrize('bad,msg', [
    (dict(dataset='imagenet'), 'Unknown dataset'), (dict(profile='tail'), 'valid profiles'),
    (dict(augment='cutout'), 'valid tiers'), (dict(augment='none', ham=True), 'needs an augmentation tier'),
    (dict(budget='week'), 'valid budgets'), (dict(seed=-1), 'seed must be an integer')])
def test_bad_config(bad, msg, retina):
    with pytest.raises(ValueError, match=msg): run(RunConfig(**bad), data=retina, progress=False)
