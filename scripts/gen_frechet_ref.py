"""Frechet distances with a real-vs-real reference: retrain the seed-0 Balanced-Softmax classifier of gen_tables.py
(deterministic: its test F1 must equal the one in results.jsonl), then per class FD(real train, real test),
FD(pool, real train), FD(pool, real test) in its penultimate features (SmallResNet.encode; NOT Inception FID).
Appends to runs/gen/frechet_ref.jsonl. Usage: nice -n 10 python scripts/gen_frechet_ref.py"""
import json, sys, torch
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from gen_tables import SETS, rows
from imbalance_study.data import load_dataset
from imbalance_study.profiles import make_profile
from imbalance_study.train import RunConfig
from imbalance_study.diffusion import load_pool, classifier_frechet
from imbalance_study.rlcas import run_generative

def main(out='runs/gen'):
    torch.set_num_threads(1); out = Path(out)
    for name, profile in SETS.items():
        ds = load_dataset(name); ds = make_profile(ds, profile, seed=0) if profile != 'full' else ds
        label, method, args = rows(name, profile, out/'pools', ds.n_classes)[0]
        res, best = run_generative(RunConfig(dataset=name, profile=profile, method=method, method_args=args, seed=0, budget='gen_cpu'),
                                   data=ds, device='cpu', progress=False, return_model=True)
        ref = classifier_frechet(best, ds.train, ds.test, ds.n_classes)
        rec = dict(dataset=name, profile=profile, feature_model_test_f1=res.test['macro_f1'], real_train_vs_real_test={str(k): v for k, v in ref.items()},
                   n_train=ds.counts('train'), n_test=ds.counts('test'))
        for kind in ('class', 'sketch'):
            pool, meta = load_pool(out/'pools'/f'{name}_{profile}_{kind}.npz')
            for split in ('train', 'test'):
                rec[f'{kind}_vs_real_{split}'] = {str(k): v for k, v in classifier_frechet(best, ds.split(split), pool, ds.n_classes).items()}
            rec[f'{kind}_n'] = pool.counts(ds.n_classes)
        with open(out/'frechet_ref.jsonl', 'a') as f: f.write(json.dumps(rec) + '\n')
        print(json.dumps(rec), flush=True)

if __name__ == '__main__': main()
