"Every one of the 112 strategy combinations of the grid trains (a few steps) without error."
import itertools, pytest
import imbalance_study  # noqa: F401  (registers the strategies)
from imbalance_study.core import Budget
from imbalance_study.data import write_fake_dataset, load_dataset
from imbalance_study.train import RunConfig, build_plan, train_plan, AUGMENT_TIERS

def combinations():
    "augmentation 4 x HEM 2 x HAM 2 (only with augmentation) x batch balance 2 x loss reweight 2 x EMA 2 = 112."
    for aug, hem, ham, bb, lr, ema in itertools.product(AUGMENT_TIERS, *[(False, True)] * 5):
        if ham and aug == 'none': continue
        yield dict(augment=aug, hem=hem, ham=ham, batch_balance=bb, loss_reweight=lr, ema=ema)

def test_there_are_112(): assert len(list(combinations())) == 112

@pytest.fixture(scope='module')
def retina(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    write_fake_dataset('retinamnist', root, train_counts=[486, 128, 206, 194, 66], val_counts=[4] * 5, test_counts=[4] * 5)
    return load_dataset('retinamnist', root=root)

def test_all_112_combinations_train(retina):
    quick = Budget('quick', width=4, min_samples=0, max_samples=64, schedule=((64, 64),), patience=1, batch_size=32)
    labels = set()
    for kw in combinations():
        plan = build_plan(RunConfig('retinamnist', 'extreme_long_tail', budget='tiny', **kw), data=retina)
        plan.budget = quick
        best, proto = train_plan(plan, progress=False)
        assert proto.samples == 64 and proto.best_state is not None
        assert ('teacher_val_macro_f1' in proto.history[0]) == kw['ema']
        labels.add(plan.config.label())
    assert len(labels) == 112
