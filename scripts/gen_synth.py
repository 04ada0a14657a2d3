"""Stage 1 of the generative-augmentation experiments (SPEC section 10): train the tiny class-conditional
synthesizers (with and without the sketch branch) on real BreastMNIST (full) and RetinaMNIST extreme_long_tail
for a fixed CPU-time budget each (1 thread), save them, and generate the synthetic pools.
Usage: nice -n 10 python scripts/gen_synth.py [--seconds 150] [--out runs/gen]"""
import argparse, json, torch
from pathlib import Path
from imbalance_study.data import load_dataset
from imbalance_study.profiles import make_profile
from imbalance_study.diffusion import SynthConfig, ClassDiffusion, train_synthesizer, save_synthesizer, generate_pool

SETS = {'breastmnist': ('full', 60), 'retinamnist': ('extreme_long_tail', 40)}  # profile, pool images per class

def main(seconds, out, steps, guidance):
    torch.set_num_threads(1)
    out = Path(out)
    for name, (profile, per_class) in SETS.items():
        ds = load_dataset(name)
        if profile != 'full': ds = make_profile(ds, profile, seed=0)
        for sketch in (False, True):
            tag = f"{name}_{profile}_{'sketch' if sketch else 'class'}"
            folder = out/'synth'/tag
            if (folder/'model.pt').exists() and (out/'pools'/f'{tag}.json').exists(): print('skip', tag); continue
            torch.manual_seed(0)
            m = ClassDiffusion(SynthConfig(n_classes=ds.n_classes, channels=ds.info.channels, sketch=sketch))
            rec = train_synthesizer(m, ds.train, max_steps=100_000, max_seconds=seconds, bs=64, lr=1e-3, seed=0, progress=False, clock='cpu')
            rec['n_params'] = sum(p.numel() for p in m.parameters())
            rec['train_counts'] = ds.counts(); rec['profile'] = profile
            save_synthesizer(m, folder, rec)
            p = generate_pool(m, per_class, out/'pools'/tag, steps=steps, guidance=guidance, seed=0, checkpoint=folder, progress=False)
            meta = json.loads(p.with_suffix('.json').read_text())
            print(json.dumps(dict(tag=tag, steps=rec['steps'], seconds=rec['seconds'], steps_per_s=rec['steps_per_s'],
                                  final=rec['history'][-1], n_params=rec['n_params'],
                                  pool_images=sum(meta['per_class']), pool_seconds=meta['seconds'], images_per_s=meta['images_per_s'], images_per_cpu_s=meta['images_per_cpu_s'], cpu_seconds=rec['cpu_seconds'])), flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=float, default=150); ap.add_argument('--out', default='runs/gen')
    ap.add_argument('--steps', type=int, default=20); ap.add_argument('--guidance', type=float, default=2.0)
    a = ap.parse_args(); main(a.seconds, a.out, a.steps, a.guidance)
