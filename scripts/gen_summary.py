"""Markdown tables (mean +- sd over seeds) from runs/gen/results.jsonl and runs/gen/frechet.jsonl.
Usage: python scripts/gen_summary.py [--out runs/gen]"""
import argparse, json, math
from collections import defaultdict
from pathlib import Path
import numpy as np

ORDER = ['Baseline (Balanced Softmax)', 'CB-Focal', 'Logit-Adjust', '+SynClass', '+SynSketch', '+SynClass+Re-sampling',
         '+SynClass+RL-CAS', '+SynSketch+RL-CAS (Ours)']
COLS = [('f1', 'F1'), ('recall', 'Rec'), ('precision', 'Pre'), ('accuracy', 'All'), ('many', 'Many'), ('medium', 'Med'), ('few', 'Few'), ('auc', 'AUC')]

def ms(v, pct=True):
    v = [x for x in v if x is not None and not (isinstance(x, float) and math.isnan(x))]
    if not v: return 'n/a'
    s = 100 if pct else 1
    return f"{np.mean(v) * s:.1f} ± {np.std(v, ddof=1) * s:.1f}" if len(v) > 1 else f"{v[0] * s:.1f}"

def main(out, seeds=None):
    out = Path(out)
    recs = [json.loads(l) for l in (out/'results.jsonl').read_text().splitlines()] if (out/'results.jsonl').exists() else []
    if seeds: recs = [r for r in recs if r['seed'] in seeds]
    by = defaultdict(list)
    for r in recs: by[(r['dataset'], r['profile'], r['row'])].append(r)
    for ds, prof in dict.fromkeys((r['dataset'], r['profile']) for r in recs):
        print(f"\n**{ds} / {prof}**, budget `gen_cpu` (width-8 ResNet-18, 6,000 samples, 8 evaluations), test split, "
              f"best-on-validation checkpoint; mean ± sd over seeds; metrics in %, AUC x100\n")
        print('| Method | seeds | ' + ' | '.join(c for _, c in COLS) + ' | val F1 | CPU s/run |')
        print('|---' * (len(COLS) + 4) + '|')
        for row in ORDER:
            rs = by.get((ds, prof, row))
            if not rs: continue
            cells = [ms([r['test'][k] for r in rs]) for k, _ in COLS]
            print(f"| {row} | {len(rs)} | " + ' | '.join(cells) + f" | {ms([r['val_macro_f1'] for r in rs])} | {np.mean([r['cpu_s'] for r in rs]):.0f} |")
        for row in ('+SynClass+RL-CAS', '+SynSketch+RL-CAS (Ours)'):
            for r in by.get((ds, prof, row), []):
                print(f"\n{row} seed {r['seed']}: final state {r['rl_cas']['final_state']}, chosen states per epoch "
                      f"{[h['states'][h['chosen']] for h in r['rl_history']]}")

def frechet_table(out):
    f = Path(out)/'frechet_ref.jsonl'
    if not f.exists(): return
    print('\n**Frechet distance** per class in the penultimate features (SmallResNet.encode) of the seed-0 Balanced-Softmax '
          'classifier of the table (width 8, `gen_cpu`); NOT Inception FID. Real train vs real test is the reference; '
          'n = images per class (real / synthetic)\n')
    print('| dataset | comparison | all | class 0 | class 1 | class 2 | class 3 | class 4 |')
    print('|---' * 8 + '|')
    for r in map(json.loads, f.read_text().splitlines()):
        C = len(r['n_train'])
        comps = [('real train vs real test', r['real_train_vs_real_test'], [f"{a}/{b}" for a, b in zip(r['n_train'], r['n_test'])])]
        for kind, nm in (('class', 'class-only pool'), ('sketch', '+sketch pool')):
            for sp in ('train', 'test'):
                comps.append((f'{nm} vs real {sp}', r[f'{kind}_vs_real_{sp}'], [f"{a}/{b}" for a, b in zip(r[f'n_{sp}'], r[f'{kind}_n'])]))
        for name, fd, ns in comps:
            cells = [f"{fd[str(c)]:.1f} ({ns[c]})" for c in range(C)] + [''] * (5 - C)
            print(f"| {r['dataset']} | {name} | {fd['all']:.1f} | " + ' | '.join(cells) + ' |')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--out', default='runs/gen'); ap.add_argument('--seeds', type=int, nargs='*')
    a = ap.parse_args(); main(a.out, a.seeds); frechet_table(a.out)
