"Uncertainty: planted effects are recovered with intervals that cover them, noise is not resolved, bootstrap intervals cover at their nominal rate, bad input is refused clearly."
import numpy as np, pandas as pd
import pytest
from imbalance_study.study.analysis import synthetic_results, DEFAULT_EFFECTS
from imbalance_study.data.profiles import class_groups
from imbalance_study.study.uncertainty import (factors, NoPredictionsError, bootstrap_f1, paired_bootstrap, f1_from_counts, confusion_counts,
                                         factorial_effects, factorial_interactions, matched_pairs, compare_arms, arm_difference,
                                         nps_intervals, run_intervals, synthetic_prediction_runs)

GROUPS = np.array(class_groups('retinamnist'))

def grid(effects=None, noise=0.01, seed=0):
    return synthetic_results(datasets=('retinamnist',), profiles=('long_tail',), seeds=(0,), effects=effects, best={}, noise=noise, seed=seed)

def macro_effect(effects, name):
    "The planted effect of `name` on macro-F1: the mean over classes of its per-group effect."
    e = effects.get(name, 0.0)
    return float(np.mean([e.get(g, 0.0) for g in GROUPS])) if isinstance(e, dict) else float(e)

@pytest.mark.parametrize('seed', [0, 1])
def test_planted_effects_recovered(seed):
    effects = dict(DEFAULT_EFFECTS, batch_balance=0.0)   # one family planted at zero: it must not be "found"
    fe = factorial_effects(grid(effects, seed=seed), level=0.99).set_index('family')
    for name in factors():
        truth, row = macro_effect(effects, name), fe.loc[name]
        assert row.lo <= truth <= row.hi, (name, truth, row.lo, row.hi)
        if truth != 0: assert row.resolved, name
    assert not fe.loc['batch_balance', 'resolved']
    # a group score recovers the group's planted effect (loss reweighting: +0.06 on the rarest class)
    rare = factorial_effects(grid(effects, seed=seed), families=['loss_reweight'], score='rarest', level=0.99).iloc[0]
    assert rare.lo <= 0.06 <= rare.hi and rare.resolved

def test_planted_interaction_recovered():
    g = grid(seed=3)
    g.loc[g.ham & g.ema, 'test_macro_f1'] += 0.04
    fi = factorial_interactions(g, level=0.99).set_index('contrast')
    row = fi.loc['ham x ema']
    assert row.resolved and row.lo <= 0.04 <= row.hi
    assert fi.index[0] == 'ham x ema'                        # the largest
    assert fi.drop(index='ham x ema').resolved.sum() <= 2    # the others are additive (about 1% of 21 by chance)

def test_no_effect_not_resolved():
    main, inter = [], []
    for s in range(8):
        g = grid(effects={}, seed=100 + s)
        main.append(factorial_effects(g, B=1000)); inter.append(factorial_interactions(g, B=1000))
    main, inter = pd.concat(main), pd.concat(inter)
    inter = inter[inter.n_quads > 0]
    assert main.resolved.mean() <= 0.12, main.resolved.mean()      # nominal 0.05 of 64 contrasts
    assert inter.resolved.mean() <= 0.12, inter.resolved.mean()    # nominal 0.05 of 176
    assert (main.n_pairs > 0).all()

def test_bootstrap_coverage():
    "The 95% interval of a run's macro-F1 covers the population value at about the nominal rate over fresh test sets."
    share, skill, C, n = np.array([0.4, 0.15, 0.2, 0.15, 0.1]), 0.65, 5, 400
    joint = share[:, None] * ((1 - skill) / C + skill * np.eye(C))
    truth = f1_from_counts(joint).mean()
    rng = np.random.default_rng(7)
    hits = []
    for i in range(200):
        y = rng.choice(C, size=n, p=share)
        p = np.where(rng.random(n) < skill, y, rng.integers(0, C, n))
        lo, hi = bootstrap_f1(y, p, C, B=400, seed=i)[['lo', 'hi']].iloc[0]
        hits.append(lo <= truth <= hi)
    assert 0.88 <= np.mean(hits) <= 0.99, np.mean(hits)

def test_paired_bootstrap_resolves_a_real_difference():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    a = np.where(rng.random(300) < 0.7, y, (y + 1) % 3)
    b = a.copy(); right = np.flatnonzero(a == y)[:25]; b[right] = (y[right] + 1) % 3
    d = paired_bootstrap(y, a, b, 3).iloc[0]
    assert d['diff'] > 0 and d.resolved
    same = paired_bootstrap(y, a, a, 3).iloc[0]
    assert same['diff'] == 0 and not same.resolved

def test_seed_and_image_resampling():
    runs, y = synthetic_prediction_runs({'baseline': 0.5, 'ema': 0.5, 'randaugment': 0.62}, seeds=(0, 1, 2), seed=4)
    ca = compare_arms(runs, labels=y).set_index('a')
    assert ca.loc['randaugment', 'resolved'] and ca.loc['randaugment', 'resampled'] == 'seeds and images'
    ni = nps_intervals(runs, labels=y)
    assert (ni.status == 'resolved').all() and ni.nps.notna().all()
    flat, fy = synthetic_prediction_runs({'baseline': 0.5, 'ema': 0.5, 'hem': 0.5}, seeds=(0, 1, 2), seed=5)
    nf = nps_intervals(flat, labels=fy)
    assert nf.status.iloc[0] in ('inside noise', 'no headroom: the baseline is the best') and nf.nps.isna().all()

def test_bad_input():
    y = np.zeros(10, int)
    with pytest.raises(ValueError, match='10 labels but y_pred 9'): bootstrap_f1(y, y[:9])
    with pytest.raises(ValueError, match='outside 0..1'): bootstrap_f1(y, np.full(10, 2), n_classes=2)
    with pytest.raises(ValueError, match='integer class indices'): bootstrap_f1(y, np.full(10, 0.5))
    with pytest.raises(ValueError, match='level'): bootstrap_f1(y, y, level=95)
    with pytest.raises(ValueError, match='B'): bootstrap_f1(y, y, B=1)
    with pytest.raises(ValueError, match="Unknown family 'mixup'"): factorial_effects(grid(), families=['mixup'])
    with pytest.raises(ValueError, match="Unknown family"): matched_pairs(grid(), 'EMA')
    with pytest.raises(ValueError, match='levels of one family'): factorial_interactions(grid(), pairs=[('classical', 'trivialaugment')])
    with pytest.raises(ValueError, match='Unknown score'): factorial_effects(grid(), score='f2')
    runs, ly = synthetic_prediction_runs({'baseline': 0.5, 'ema': 0.55}, seeds=(0,))
    none = runs.assign(test_predictions=None)
    with pytest.raises(NoPredictionsError, match='no test predictions'): arm_difference(none, 'ema', 'baseline', images=True)
    with pytest.raises(NoPredictionsError, match='attach_predictions'): run_intervals(runs.drop(columns='test_predictions'), labels=ly)
    with pytest.raises(ValueError, match='399 test labels'): run_intervals(runs, labels=ly[:399])
    # no predictions is reported, not a crash
    ri = run_intervals(none)
    assert ri.lo.isna().all() and ri.note.str.contains('no test predictions').all()
    d = arm_difference(none, 'ema', 'baseline').iloc[0]
    assert d.resampled == 'none' and np.isnan(d.lo) and not d.resolved
