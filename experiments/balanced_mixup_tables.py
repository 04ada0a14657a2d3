"""Balanced-MixUp paper Tables 1 and 3 (structure) on RetinaMNIST: 8 methods x {full, long_tail} x seeds, smoke budget.

Run (one CPU thread; each finished run is appended to the JSONL at once, finished runs are skipped on a rerun):
    IMBALANCE_STUDY_DATA=/work/shared/data nice -n 10 python experiments/balanced_mixup_tables.py --seeds 0 1 2
Table from whatever has finished:
    python experiments/balanced_mixup_tables.py --table
"""
import argparse, json, os, time, traceback
from pathlib import Path

METHODS = [  # (row label, method, method_args); all with flip TTA at test time, as the paper
    ('Class-sampling', 'sampling', {'q': 0}),
    ('Instance-sampling', 'sampling', {'q': 1}),
    ('Sqrt-sampling', 'sampling', {'q': 0.5}),
    ('Focal Loss', 'focal', {'phi': 2.0}),
    ('CB Loss', 'cb_loss', {'beta': 0.9999}),
    ('Bal-Mxp a=0.1', 'balanced_mixup', {'alpha': 0.1}),
    ('Bal-Mxp a=0.2', 'balanced_mixup', {'alpha': 0.2}),
    ('Bal-Mxp a=0.3', 'balanced_mixup', {'alpha': 0.3}),
]
PROFILES = ('full', 'long_tail')
METRICS = ('quadratic_kappa', 'mcc', 'kendall_tau', 'balanced_accuracy', 'macro_f1')
HEAD = ('quad-kappa', 'MCC', 'Kendall-tau', 'B-Acc', 'macro-F1')

def jobs(seeds, budget, profiles=PROFILES, order=None):
    by_label = {m[0]: m for m in METHODS}
    methods = [by_label[l] for l in order] + [m for m in METHODS if m[0] not in order] if order else METHODS
    for seed in seeds:  # seed-major: a partial run still covers every cell
        for profile in profiles:
            for label, method, args in methods:
                yield label, dict(dataset='retinamnist', profile=profile, method=method,
                                  method_args={**args, 'tta_flip': True}, seed=seed, budget=budget)

def do_runs(out:Path, seeds, budget, profiles=PROFILES, order=None):
    import torch
    torch.set_num_threads(1)
    from imbalance_study.train import RunConfig, run
    import imbalance_study.balanced_mixup  # registers the methods
    from imbalance_study.data import load_dataset
    data = load_dataset('retinamnist')
    done = {json.loads(l)['key'] for l in out.read_text().splitlines() if l.strip()} if out.exists() else set()
    for label, cfg in jobs(seeds, budget, profiles, order):
        c = RunConfig(**cfg)
        if c.key() in done: continue
        t0 = time.time()
        try:
            r = run(c, data=data, progress=False)
            rec = dict(key=c.key(), label=label, profile=c.profile, seed=c.seed, budget=budget, status='ok',
                       test={k: r.test[k] for k in METRICS + ('accuracy', 'per_class_f1')}, no_tta=r.test.get('no_tta'),
                       val_macro_f1=r.val['macro_f1'], best_samples=r.best_samples, samples_seen=r.samples_seen,
                       wall_time_s=r.wall_time_s, info={k: v for k, v in r.info.items() if k != 'history'},
                       versions=r.versions, git_commit=r.git_commit, device=r.device, config=r.config)
        except Exception as e:
            rec = dict(key=c.key(), label=label, profile=c.profile, seed=c.seed, budget=budget, status='failed',
                       error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc(), wall_time_s=time.time() - t0)
        with out.open('a') as f: f.write(json.dumps(rec) + '\n'); f.flush(); os.fsync(f.fileno())
        print(f"{time.strftime('%H:%M:%S')} {label:18s} {c.profile:9s} s{c.seed} {rec['status']} "
              f"{rec.get('test', {}).get('quadratic_kappa', float('nan')):.3f} {rec['wall_time_s']:.0f}s", flush=True)

def table(out:Path, key='test'):
    import numpy as np
    recs = [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
    ok = [r for r in recs if r['status'] == 'ok']
    budgets = sorted({r['budget'] for r in recs})
    lines = [f"RetinaMNIST, budget {'/'.join(budgets)}, test metrics x100 ({'flip TTA' if key == 'test' else 'no TTA'}), "
             f"mean +- sd over seeds; n = seeds per cell; {len(ok)} finished runs, {len(recs) - len(ok)} failed."]
    for profile in PROFILES:
        lines += ['', f"**{profile}**", '', '| method | n | ' + ' | '.join(HEAD) + ' |', '|---|---|' + '---|' * len(HEAD)]
        for label, _, _ in METHODS:
            rs = [r[key] for r in ok if r['label'] == label and r['profile'] == profile and r.get(key)]
            cells = []
            for m in METRICS:
                v = 100 * np.array([r[m] for r in rs])
                cells.append('—' if not len(v) else f"{v.mean():.1f} +- {v.std(ddof=1):.1f}" if len(v) > 1 else f"{v.mean():.1f}")
            lines.append(f"| {label} | {len(rs)} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--budget', default='smoke')
    p.add_argument('--out', default='runs/balanced_mixup_tables.jsonl')
    p.add_argument('--profiles', nargs='+', default=list(PROFILES), help='profiles, in run order')
    p.add_argument('--order', nargs='+', default=None, help='method labels to run first within each profile and seed')
    p.add_argument('--table', action='store_true', help='print the table from the finished runs and exit')
    p.add_argument('--no-tta', action='store_true', help='with --table: the metrics without test-time augmentation')
    a = p.parse_args()
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    if a.table: print(table(out, 'no_tta' if a.no_tta else 'test'))
    else: do_runs(out, a.seeds, a.budget, a.profiles, a.order)
