"""Stage 2 of the generative-augmentation experiments (SPEC section 10): the structure of the paper's Tables 1 and 2
(baseline = Balanced Softmax, CB-focal, logit adjustment, +SynClass, +SynSketch, +SynClass+Re-sampling,
+SynClass+RL-CAS, +SynSketch+RL-CAS = "Ours") on real BreastMNIST (full) and RetinaMNIST extreme_long_tail,
at the CPU budget `gen_cpu` defined below, seed-major so that every finished seed is a complete table.
One process, 1 thread; every run is appended to runs/gen/results.jsonl (a rerun skips finished runs).
Frechet distances (classifier feature space) per class go to runs/gen/frechet.jsonl.
Usage: nice -n 10 python scripts/gen_tables.py --seeds 0 1 2"""
import argparse, json, time, torch
from pathlib import Path
from imbalance_study.core import BUDGETS, Budget
from imbalance_study.data import load_dataset
from imbalance_study.profiles import make_profile
from imbalance_study.train import RunConfig
from imbalance_study.diffusion import load_pool, classifier_frechet
from imbalance_study.rlcas import run_generative

# an 'epoch' of RL-CAS = one evaluation interval = 750 samples; 8 intervals, fixed length (no early stop)
BUDGETS['gen_cpu'] = Budget('gen_cpu', width=8, min_samples=6000, max_samples=6000, schedule=((6000, 750),), patience=8)
SETS = {'breastmnist': 'full', 'retinamnist': 'extreme_long_tail'}

def rows(name, profile, pools, n_classes, bs=64):
    pc, ps = str(pools/f'{name}_{profile}_class.npz'), str(pools/f'{name}_{profile}_sketch.npz')
    return [('Baseline (Balanced Softmax)', 'lt_loss', {'loss': 'balanced_softmax'}),
            ('CB-Focal', 'lt_loss', {'loss': 'cb_focal'}),
            ('Logit-Adjust', 'lt_loss', {'loss': 'logit_adjust'}),
            ('+SynClass', 'synthetic', {'pool': pc}),
            ('+SynSketch', 'synthetic', {'pool': ps}),
            ('+SynClass+Re-sampling', 'synthetic', {'pool': pc, 'per_class': bs // (2 * n_classes)}),
            ('+SynClass+RL-CAS', 'synthetic', {'pool': pc, 'rl_cas': True}),
            ('+SynSketch+RL-CAS (Ours)', 'synthetic', {'pool': ps, 'rl_cas': True})]

def main(seeds, out, only):
    torch.set_num_threads(1)
    out = Path(out); res_file, fd_file = out/'results.jsonl', out/'frechet.jsonl'
    done = {json.loads(l)['key'] for l in res_file.read_text().splitlines()} if res_file.exists() else set()
    data = {}
    for name, profile in SETS.items():
        ds = load_dataset(name)
        data[name] = make_profile(ds, profile, seed=0) if profile != 'full' else ds
    for seed in seeds:
        for name, profile in SETS.items():
            ds = data[name]
            for label, method, args in rows(name, profile, out/'pools', ds.n_classes):
                if only and label not in only: continue
                cfg = RunConfig(dataset=name, profile=profile, method=method, method_args=args, seed=seed, budget='gen_cpu')
                if cfg.key() in done: continue
                c0 = time.process_time()
                res, best = run_generative(cfg, data=ds, device='cpu', progress=False, return_model=True)
                cpu = time.process_time() - c0
                rec = dict(key=cfg.key(), dataset=name, profile=profile, row=label, seed=seed, budget='gen_cpu', method=method,
                           method_args=args, val_macro_f1=res.val['macro_f1'], test_macro_f1=res.test['macro_f1'],
                           test=res.test['lt'], test_per_class_f1=res.test['per_class_f1'], best_samples=res.best_samples,
                           samples=res.samples_seen, wall_s=res.wall_time_s, cpu_s=round(cpu, 2),
                           synthetic=res.info.get('synthetic'), rl_cas=res.info.get('rl_cas'),
                           rl_history=[{k: h[k] for k in ('states', 'val', 'rewards', 'chosen', 'baseline', 'probs')} for h in res.history] if method == 'synthetic' and args.get('rl_cas') else None,
                           train_counts=res.info['train_counts'], git_commit=res.git_commit)
                with open(res_file, 'a') as f: f.write(json.dumps(rec) + '\n')
                print(f"{name} {label} s{seed}: test F1 {res.test['macro_f1']:.3f} acc {res.test['accuracy']:.3f} ({res.wall_time_s:.0f}s wall, {cpu:.0f}s cpu)", flush=True)
                if seed == seeds[0] and label.startswith('Baseline'):  # Frechet distances in this classifier's feature space
                    for kind in ('class', 'sketch'):
                        pool, meta = load_pool(out/'pools'/f'{name}_{profile}_{kind}.npz')
                        for ref in ('train', 'test'):
                            fd = classifier_frechet(best, ds.split(ref), pool, ds.n_classes)
                            with open(fd_file, 'a') as f:
                                f.write(json.dumps(dict(dataset=name, profile=profile, synthesizer=kind, real=ref, seed=seed,
                                                        feature_model=f'SmallResNet width 8, Balanced Softmax, gen_cpu, seed {seed}',
                                                        fd={str(k): v for k, v in fd.items()}, n_real=ds.counts(ref), n_synth=pool.counts(ds.n_classes),
                                                        checkpoint_hash=meta.get('checkpoint_hash'))) + '\n')

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2]); ap.add_argument('--out', default='runs/gen')
    ap.add_argument('--only', nargs='*', default=None)
    a = ap.parse_args(); main(a.seeds, a.out, a.only)
