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

def main(out):
    out = Path(out)
    recs = [json.loads(l) for l in (out/'results.jsonl').read_text().splitlines()] if (out/'results.jsonl').exists() else []
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
    fds = [json.loads(l) for l in (out/'frechet.jsonl').read_text().splitlines()] if (out/'frechet.jsonl').exists() else []
    if fds:
        print('\n**Frechet distance real vs synthetic** in the penultimate features of the seed-0 Balanced-Softmax classifier '
              '(SmallResNet.encode; NOT Inception FID)\n')
        print('| dataset | synthesizer | real split | all | ' + ' | '.join(f'class {c}' for c in range(5)) + ' |')
        print('|---' * 9 + '|')
        for f in fds:
            n = len(f['n_real'])
            cells = [f"{f['fd'][str(c)]:.2f} (n={f['n_real'][c]}/{f['n_synth'][c]})" for c in range(n)] + [''] * (5 - n)
            print(f"| {f['dataset']} | {f['synthesizer']} | {f['real']} | {f['fd']['all']:.2f} | " + ' | '.join(cells) + ' |')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--out', default='runs/gen'); main(ap.parse_args().out)
