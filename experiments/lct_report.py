"""Tables and the adaptability figure from the JSONL written by `lct_table3.py`.

Usage: python experiments/lct_report.py [--runs runs/lct/table3.jsonl] [--fig nbs/images/lct_adaptability.png]
Prints markdown tables (mean +- sd over the seeds that finished, n per cell) and saves the figure.
"""
import argparse, json, time
from collections import defaultdict
from pathlib import Path
import numpy as np

METRICS = ('auc', 'average_precision', 'brier', 'best_f1', 'best_balanced_accuracy', 'precision_at_recall_99')
SHORT = dict(auc='AUC', average_precision='AP', brier='Brier', best_f1='best F1', best_balanced_accuracy='best bal. acc.',
             precision_at_recall_99='P@R>=0.99')
ORDER = ('Focal', 'Focal + LCT', 'VS', 'VS + LCT')

def load(path):
    rows = [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]
    by = defaultdict(list)
    for r in rows: by[(r['dataset'], r['name'])].append(r)
    return rows, by

def cell(vals):
    vals = np.asarray(vals, dtype=float)
    if len(vals) == 0: return 'not run'
    sd = f" +- {vals.std(ddof=1):.3f}" if len(vals) > 1 else ''
    return f"{vals.mean():.3f}{sd} (n={len(vals)})"

def tables(rows, by):
    tasks = sorted({r['dataset'] for r in rows}, key=lambda t: ('retina' not in t, t))
    out = ["### Test AUC (Table 3 structure), mean +- sd over seeds; lambda chosen on validation AUC", '',
           '| method | ' + ' | '.join(tasks) + ' |', '|---|' + '---|' * len(tasks)]
    for m in ORDER: out.append(f'| {m} | ' + ' | '.join(cell([r['test']['auc'] for r in by[(t, m)]]) for t in tasks) + ' |')
    for t in tasks:
        ex = next(r for r in rows if r['dataset'] == t)
        out += ['', f"### {t}: train {ex['train_counts']} (negative, positive), val {ex['val_counts']}, test {ex['test_counts']}", '',
                '| method | ' + ' | '.join(SHORT[k] for k in METRICS) + ' | chosen lambda per seed |', '|---|' + '---|' * (len(METRICS) + 1)]
        for m in ORDER:
            rs = sorted(by[(t, m)], key=lambda r: r['seed'])
            lams = ('' if not rs else 'fixed' if rs[0]['lam'] is None else ', '.join(f"s{r['seed']}: {r['lam']}" for r in rs))
            out.append(f'| {m} | ' + ' | '.join(cell([r['test'][k] for r in rs]) for k in METRICS) + f' | {lams} |')
    return '\n'.join(out)

def figure(by, path, tasks, method='VS + LCT', base='VS', x='tau', lines='gamma'):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    mets = ('auc', 'brier', 'best_f1', 'precision_at_recall_99')
    fig, axs = plt.subplots(len(tasks), len(mets), figsize=(3.4 * len(mets), 2.9 * len(tasks)), squeeze=False)
    for i, t in enumerate(tasks):
        rs = by[(t, method)]
        if not rs: continue
        grid = [tuple(row['lam']) for row in rs[0]['test_grid']]
        g_vals, x_vals = sorted({g for g, _ in grid}), sorted({q for _, q in grid})
        for j, k in enumerate(mets):
            ax = axs[i, j]
            for g in g_vals:
                ys = [np.mean([next(row[k] for row in r['test_grid'] if tuple(row['lam']) == (g, q)) for r in rs]) for q in x_vals]
                ax.plot(x_vals, ys, marker='o', ms=3, label=f'{lines}={g:g}')
            if by[(t, base)]:
                ax.axhline(np.mean([r['test'][k] for r in by[(t, base)]]), color='k', ls='--', lw=1, label=f'{base} (fixed)')
            ax.set_title(f"{t}: {SHORT[k]}", fontsize=8); ax.set_xlabel(f'inference {x}', fontsize=8); ax.tick_params(labelsize=7)
            if i == 0 and j == 0: ax.legend(fontsize=6)
    n = len(by[(tasks[0], method)])
    fig.suptitle(f"{method}: test metrics vs the inference-time lambda (one model per seed, mean over {n} seed(s); smoke budget)", fontsize=9)
    fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--runs', default='runs/lct/table3.jsonl')
    p.add_argument('--fig', default='nbs/images/lct_adaptability.png')
    a = p.parse_args()
    rows, by = load(a.runs)
    print(f"{len(rows)} runs from {a.runs}, budget {sorted({r['budget'] for r in rows})}, report made {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(tables(rows, by))
    tasks = sorted({r['dataset'] for r in rows}, key=lambda t: ('retina' not in t, t))
    if any(by[(t, 'VS + LCT')] for t in tasks):
        Path(a.fig).parent.mkdir(parents=True, exist_ok=True); figure(by, a.fig, tasks); print(f"\nfigure: {a.fig}")
    if any(by[(t, 'Focal + LCT')] for t in tasks):
        f2 = a.fig.replace('.png', '_focal.png')
        figure(by, f2, tasks, method='Focal + LCT', base='Focal', x='phi', lines='alpha'); print(f"figure: {f2}")

if __name__ == '__main__': main()
