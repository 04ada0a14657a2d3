"NPS on hand-computed cases, and the analysis recovering the effects planted in a synthetic grid."
import math
import numpy as np, pytest
from imbalance_study.study.analysis import (nps, synthetic_results, run_scores, config_scores, table1, table2, table3, table6,
                                      fig3_data, results_frame, RESULT_COLUMNS)

PLANTED = 'trivialaugment+ham+loss_reweight+ema'

@pytest.mark.parametrize('x,base,best,eps,want', [
    (0.6, 0.4, 0.8, 1e-8, 0.5), (0.8, 0.4, 0.8, 1e-8, 1.0), (0.4, 0.4, 0.8, 1e-8, 0.0),
    (0.3, 0.4, 0.8, 1e-8, -0.25),                 # below baseline: negative
    (0.8, 0.4, 0.8, 0.1, 0.8),                    # eps is in the denominator: 0.4 / 0.5
    (0.5, 0.5, 0.5, 1e-8, 0.0),                   # best = base: the baseline scores 0 ...
    (0.49, 0.5, 0.5, 0.01, -1.0)])                # ... anything else is divided by eps alone
def test_nps_hand_computed(x, base, best, eps, want):
    assert math.isclose(nps(x, base, best, eps), want, abs_tol=1e-6)

def test_nps_vectorised():
    np.testing.assert_allclose(nps(np.array([0.4, 0.6, 0.8]), 0.4, 0.8), [0, 0.5, 1], atol=1e-6)

@pytest.fixture(scope='module')
def syn(): return synthetic_results(datasets=('retinamnist', 'cifar10'), seeds=(0, 1))

def test_planted_best_scores_one(syn):
    cs = config_scores(syn)
    best = cs.loc[cs.groupby(['dataset', 'profile']).score.idxmax()]
    assert set(best.label) == {PLANTED}
    np.testing.assert_allclose(cs[cs.label == PLANTED].nps, 1.0, atol=1e-6)
    np.testing.assert_allclose(cs[cs.label == 'baseline'].nps, 0.0, atol=1e-9)
    t1 = table1(syn, k=3)
    assert (t1[t1['rank'] == 'best'].groupby('profile').label.first() == PLANTED).all()
    t6 = table6(syn)
    assert (t6.xs('best_label', axis=1, level=1) == PLANTED).all().all()

def test_helping_and_hurting_strategies(syn):
    m = fig3_data(syn).groupby('strategy').nps.mean()
    assert m['EMA'] > 0 > m['HEM']                                     # EMA always helps, HEM always hurts
    avg = table3(syn, top_k=5).query("label == 'average'").set_index('strategy')
    assert avg.loc['ema', 'all'] > 0 and avg.loc['ham', 'all'] > 0     # removing a helper costs NPS: positive impact
    assert avg.loc['hem', 'all'] < 0                                   # removing HEM gains NPS: negative impact
    assert avg.loc['loss_reweight', 'rarest'] > 0 > avg.loc['loss_reweight', 'frequent']
    share = table2(syn)['share']
    assert (share.xs('HEM', level='strategy') == 0).all().all() and (share.xs('HAM', level='strategy') == 1).all().all()

def test_val_split_is_used_and_named(syn):
    a, b = run_scores(syn, 'test'), run_scores(syn, 'val')
    assert not np.allclose(a.score, b.score)
    assert 'Split: val' in table1(syn, 'val', k=1).attrs['caption']

def test_partial_grid_counts(syn):
    part = syn[(syn.dataset == 'cifar10') & (syn.seed == 1) & (syn.profile == 'full')]
    t1 = table1(part, k=2)
    assert t1.all_n.tolist() == [1] * 4 and t1.cifar10_n.tolist() == [1] * 4
    assert table1(part[part.label != 'baseline'], k=2).empty           # no baseline: no NPS

def test_results_frame_columns():
    assert list(results_frame([]).columns) == list(RESULT_COLUMNS)
