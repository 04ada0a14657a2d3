"""Real and synthetic images side by side per class (both synthesizers) -> nbs/images/gen_real_vs_synth_<dataset>.png
Usage: python scripts/gen_figure.py [--out runs/gen] [--n 6]"""
import argparse, matplotlib
matplotlib.use('Agg')
from pathlib import Path
from imbalance_study.data import load_dataset
from imbalance_study.profiles import make_profile
from imbalance_study.diffusion import load_pool, show_real_vs_synthetic

SETS = {'breastmnist': 'full', 'retinamnist': 'extreme_long_tail'}

def main(out, n):
    out = Path(out); dest = Path('nbs/images'); dest.mkdir(parents=True, exist_ok=True)
    for name, profile in SETS.items():
        ds = load_dataset(name); ds = make_profile(ds, profile, seed=0) if profile != 'full' else ds
        pools = {t: load_pool(out/'pools'/f'{name}_{profile}_{k}.npz')[0] for k, t in (('class', 'synthetic: class only'), ('sketch', 'synthetic: + sketch branch'))}
        fig = show_real_vs_synthetic(ds.train, pools, ds.n_classes, n, f'{name} / {profile}: real (train) vs synthetic (tiny UNet, 45 CPU-s)')
        fig.savefig(dest/f'gen_real_vs_synth_{name}.png', dpi=72)
        print(dest/f'gen_real_vs_synth_{name}.png')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--out', default='runs/gen'); ap.add_argument('--n', type=int, default=6)
    a = ap.parse_args(); main(a.out, a.n)
