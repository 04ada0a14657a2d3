"""Pixel-space vs latent-space synthesizer on this CPU: training steps per CPU-second, the autoencoder's reconstruction
error, the final losses and the sampling speed, side by side in one run (the measurement behind `23_diffusion`'s
choice of pixel space as the default).

    IMBALANCE_STUDY_DATA=/path/to/data python benchmarks/latent_vs_pixel.py [--seconds 35] [--threads 1]

Real BreastMNIST train split; each training phase gets the same budget of process CPU time (`clock='cpu'`), so the
figures are comparable on a shared machine. One run each: timings, not quality (both models are far from trained).
"""
import argparse, json, time
import torch
from imbalance_study.data.core import load_dataset
from imbalance_study.methods.diffusion import ClassDiffusion, SynthConfig, train_synthesizer, train_autoencoder, sample

def _sampling(model, n:int, steps:int) -> dict:
    t0, c0 = time.time(), time.process_time()
    sample(model, torch.arange(n) % model.config.n_classes, steps=steps, guidance=2.0, seed=0, progress=False)
    return dict(images_per_s=round(n / (time.time() - t0), 1), images_per_cpu_s=round(n / (time.process_time() - c0), 1))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seconds', type=float, default=35.); ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--samples', type=int, default=32); ap.add_argument('--ddim-steps', type=int, default=25)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ds = load_dataset('breastmnist')
    out = {}
    for space in ('pixel', 'latent'):
        torch.manual_seed(0)
        m = ClassDiffusion(SynthConfig(n_classes=ds.n_classes, channels=ds.info.channels, sketch=True, space=space))
        row = dict(params=sum(p.numel() for p in m.parameters()))
        if space == 'latent':
            ae = train_autoencoder(m, ds.train, max_steps=100_000, max_seconds=a.seconds, seed=0, progress=False)
            row.update(ae_steps=ae['steps'], ae_recon_mae_uint8=ae['recon_mae_uint8'])
        rec = train_synthesizer(m, ds.train, max_steps=100_000, max_seconds=a.seconds, lr=1e-3, seed=0, progress=False, clock='cpu')
        row.update(unet_steps=rec['steps'], steps_per_cpu_s=rec['steps_per_cpu_s'], last_losses=rec['history'][-1], **_sampling(m, a.samples, a.ddim_steps))
        out[space] = row
        print(f"{space:6s} " + json.dumps(row), flush=True)
    print(f"settings: {a.seconds:g} CPU s per training phase, {a.threads} thread(s), {a.samples} images sampled with {a.ddim_steps} DDIM steps, "
          f"BreastMNIST train ({len(ds.train)} images)")

if __name__ == '__main__': main()
