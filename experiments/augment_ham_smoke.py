#!/usr/bin/env python
"""RetinaMNIST long_tail, smoke budget, one seed: every augmentation tier and trivialaugment+ham (single process, 1 thread).

    IMBALANCE_STUDY_DATA=/work/shared/data python experiments/augment_ham_smoke.py [--seeds 0] [--out runs/augment_ham_smoke.jsonl]
Each finished run is appended as one JSON line (RunResult.to_dict()); runs already in the file are skipped.
"""
import argparse, json
from pathlib import Path
import torch

CONFIGS = [dict(augment='none'), dict(augment='classical'), dict(augment='randaugment'), dict(augment='trivialaugment'),
           dict(augment='trivialaugment', ham=True)]

def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--budget', default='smoke')
    p.add_argument('--out', default='runs/augment_ham_smoke.jsonl')
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    import imbalance_study.augment, imbalance_study.ham
    from imbalance_study.train import RunConfig, run
    from imbalance_study.data import load_dataset
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    done = {json.loads(l)['key'] for l in out.read_text().splitlines()} if out.exists() else set()
    ds = load_dataset('retinamnist')
    for seed in a.seeds:
        for kw in CONFIGS:
            cfg = RunConfig('retinamnist', 'long_tail', budget=a.budget, seed=seed, **kw)
            if cfg.key() in done: continue
            r = run(cfg, data=ds, device='cpu', progress=False)
            print(f"{cfg.label():22s} seed {seed}: val F1 {r.val['macro_f1']:.3f} test F1 {r.test['macro_f1']:.3f} "
                  f"acc {r.test['accuracy']:.3f} samples {r.samples_seen} train {r.train_time_s:.0f}s", flush=True)
            with out.open('a') as f: f.write(json.dumps(r.to_dict(), default=str) + '\n')
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    print("\n| config | seed | budget | val macro-F1 | test macro-F1 | test acc | samples seen | train s |\n|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['label']} | {r['seed']} | {r['budget']} | {r['val']['macro_f1']:.3f} | {r['test']['macro_f1']:.3f} | "
              f"{r['test']['accuracy']:.3f} | {r['samples_seen']} | {r['train_time_s']:.0f} |")

if __name__ == '__main__': main()
