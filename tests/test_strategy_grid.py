"Every one of the 112 strategy combinations of the grid trains (a few steps) without error."
import pytest
import imbalance_study  # noqa: F401  (registers the strategies)
from imbalance_study.core import Budget
from imbalance_study.data.core import write_fake_dataset, load_dataset
from imbalance_study.study.grid import full_strategies, parse_strategy
from imbalance_study.train import RunConfig, build_plan, train_plan, family_combinations, family_fields

def combinations():
    "The grid's own enumeration, read from the family registry (not copied): RunConfig fields of each combination."
    return [family_fields(c) for c in family_combinations()]

def test_there_are_112():
    "augmentation 4 x HEM 2 x HAM 2 (only with augmentation) x batch balance 2 x loss reweight 2 x EMA 2 = 112."
    combos = combinations()
    assert len(combos) == 112 and len({RunConfig(**kw).label() for kw in combos}) == 112
    assert not any(kw['ham'] and kw['augment'] == 'none' for kw in combos)     # HAM never without augmentation
    assert sum(kw['ham'] for kw in combos) == 48 and sum(kw['augment'] == 'none' for kw in combos) == 16
    assert [RunConfig(**kw).label() for kw in combos] == full_strategies()   # the grid's labels, in the grid's order
    assert all(RunConfig(**parse_strategy(l)).label() == l for l in full_strategies())

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
