"""Real and synthetic images side by side per class (both synthesizers) -> nbs/images/gen_real_vs_synth_<dataset>.png
Usage: python scripts/gen_figure.py [--out runs/gen] [--n 8]"""
import argparse, torch, matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from pathlib import Path
from imbalance_study.data import load_dataset
from imbalance_study.profiles import make_profile
from imbalance_study.diffusion import load_pool

SETS = {'breastmnist': 'full', 'retinamnist': 'extreme_long_tail'}

def grid(x):  # n x C x H x W uint8 -> H x (n W) [x C]
    x = x.permute(0, 2, 3, 1)
    img = torch.cat(list(x), 1)
    return img[..., 0] if img.shape[-1] == 1 else img

def main(out, n):
    out = Path(out); dest = Path('nbs/images'); dest.mkdir(parents=True, exist_ok=True)
    for name, profile in SETS.items():
        ds = load_dataset(name); ds = make_profile(ds, profile, seed=0) if profile != 'full' else ds
        pools = {k: load_pool(out/'pools'/f'{name}_{profile}_{k}.npz')[0] for k in ('class', 'sketch')}
        C = ds.n_classes
        fig, axes = plt.subplots(C, 3, figsize=(3 * n * 0.45, C * 0.62 + 0.4), squeeze=False)
        for c in range(C):
            real = ds.train.x[ds.train.y == c][:n]
            for j, (title, x) in enumerate([(f'real (train n={int((ds.train.y == c).sum())})', real),
                                            ('synthetic: class only', pools['class'].x[pools['class'].y == c][:n]),
                                            ('synthetic: + sketch branch', pools['sketch'].x[pools['sketch'].y == c][:n])]):
                ax = axes[c, j]; ax.imshow(grid(x).numpy(), cmap='gray', vmin=0, vmax=255); ax.set_xticks([]); ax.set_yticks([])
                if c == 0: ax.set_title(title if j else 'real', fontsize=8)
                if j == 0: ax.set_ylabel(f'class {c}\n(n={len(ds.train.y[ds.train.y == c])})', fontsize=7)
        fig.suptitle(f'{name} / {profile}: real vs synthetic (tiny UNet, CPU budget)', fontsize=9)
        fig.tight_layout(); fig.savefig(dest/f'gen_real_vs_synth_{name}.png', dpi=110); plt.close(fig)
        print(dest/f'gen_real_vs_synth_{name}.png')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--out', default='runs/gen'); ap.add_argument('--n', type=int, default=8)
    a = ap.parse_args(); main(a.out, a.n)
