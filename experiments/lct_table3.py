"""Table 3 structure (Focal, Focal + LCT, VS, VS + LCT) on binary MedMNIST tasks, smoke budget, seeds 0-2.

Usage: IMBALANCE_STUDY_DATA=/work/shared/data nice -n 10 python experiments/lct_table3.py [--out runs/lct/table3.jsonl]
Each finished run is appended to the JSONL file as one line; runs already there (same task, method, seed) are skipped.
"""
import argparse, json, time
from pathlib import Path
import torch
torch.set_num_threads(1)
from imbalance_study.train import RunConfig
from imbalance_study.lct import make_binary_task, run_lct

TASKS = ('retinamnist_dr', 'breastmnist_malignant')  # retinamnist_dr at beta = 10, breastmnist natural (2.7)
METHODS = {  # name -> (method, method_args)
    'Focal':      ('focal_loss', dict(alpha=0.5, phi=2.0)),
    'Focal + LCT': ('lct', dict(loss='focal')),          # alpha ~ L(0.25, 0.75, 2), phi ~ L(1, 3, 0.5)
    'VS':         ('vs_loss', dict(gamma=0.2, tau=1.0)),
    'VS + LCT':   ('lct', dict(loss='vs')),              # gamma ~ L(0, 0.3, 3.3), tau ~ L(0, 3, 0.33)
}

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='runs/lct/table3.jsonl')
    p.add_argument('--budget', default='smoke')
    p.add_argument('--seeds', default='0,1,2')
    a = p.parse_args()
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line); done.add((r['dataset'], r['name'], r['seed']))
    data = {t: make_binary_task(t) for t in TASKS}
    for seed in (int(s) for s in a.seeds.split(',')):
        for t in TASKS:
            for name, (method, args) in METHODS.items():
                if (t, name, seed) in done: continue
                t0 = time.time()
                r = run_lct(RunConfig(dataset=t, method=method, method_args=args, seed=seed, budget=a.budget), data[t], device='cpu', progress=False)
                r['name'] = name
                with out.open('a') as f: f.write(json.dumps(r) + '\n')
                print(f"{time.strftime('%H:%M:%S')} {t} {name} s{seed}: test AUC {r['test']['auc']:.3f} at lam {r['lam']} "
                      f"({r['samples_seen']} samples, {time.time() - t0:.0f}s)", flush=True)

if __name__ == '__main__': main()
