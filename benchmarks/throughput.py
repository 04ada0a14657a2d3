"""Training throughput: our path (uint8 tensors, batched per-image augmentation, fastai Learner) against a plain
PyTorch reference written the way most papers' code is (torch DataLoader over PIL images, per-sample torchvision
transforms, an eager loop), same model, same strategy, same machine, alternating runs in one invocation.

    python benchmarks/throughput.py                  # CPU, width 16, 30 steps per measurement, 3 repeats
    python benchmarks/throughput.py --device cuda --width 64 --steps 200
    python benchmarks/throughput.py --concurrent 4   # GPU: N concurrent runs (processes), aggregate samples/s

Prints samples/s of each, the ratio ours/reference (median over repeats), peak resident memory of a smoke-sized run
and, on GPU, peak GPU memory per run.
"""
import argparse, copy, datetime, json, math, os, platform, statistics, subprocess, sys, tempfile, time
import torch, torch.nn.functional as F

VARIANTS = {  # name -> strategy fields of RunConfig
    'baseline': {},
    'trivialaugment': dict(augment='trivialaugment'),
    'trivialaugment+ham': dict(augment='trivialaugment', ham=True),
    'hem': dict(hem=True),
    'ema': dict(ema=True),
    'top stack (trivialaugment+ham+ema+loss_reweight)': dict(augment='trivialaugment', ham=True, ema=True, loss_reweight=True),
}

def fake_data(root, n_per_class=216):
    from imbalance_study.data import write_fake_dataset, load_dataset
    write_fake_dataset('retinamnist', root, train_counts=[486, 128, 206, 194, 66], val_counts=[8] * 5, test_counts=[8] * 5)
    return load_dataset('retinamnist', root=root)

# ---------------------------------------------------------------- the reference: how most papers' code trains
class PILDataset(torch.utils.data.Dataset):
    def __init__(self, x, y, tfm, k=1):
        from PIL import Image
        self.imgs = [Image.fromarray(a.permute(1, 2, 0).numpy()) for a in x]  # HWC uint8 -> PIL
        self.y, self.tfm, self.k = y.tolist(), tfm, k
    def __len__(self): return len(self.imgs)
    def __getitem__(self, i):
        if self.k == 1: return self.tfm(self.imgs[i]), self.y[i], i
        return torch.stack([self.tfm(self.imgs[i]) for _ in range(self.k)]), self.y[i], i

def reference_steps(ds, strategy, width, steps, device, seed=0):
    "Train `steps` batches of 64 the plain way; returns seconds."
    import torchvision.transforms as T
    from imbalance_study.models import resnet18_small, channel_stats
    torch.manual_seed(seed)
    mean, std = channel_stats(ds.train.x)
    aug = [T.TrivialAugmentWide()] if strategy.get('augment') == 'trivialaugment' else []
    tfm = T.Compose(aug + [T.ToTensor(), T.Normalize(mean, std)])
    k = 4 if strategy.get('ham') else 1
    data = PILDataset(ds.train.x, ds.train.y, tfm, k)
    counts = torch.bincount(ds.train.y).float()
    weights = None
    if strategy.get('loss_reweight'): weights = (counts.sum() / (len(counts) * counts)).to(device)
    scores = torch.full((len(data),), math.log(5.))
    sampler = (torch.utils.data.WeightedRandomSampler(scores, len(data), replacement=True) if strategy.get('hem')
               else torch.utils.data.RandomSampler(data))
    dl = torch.utils.data.DataLoader(data, batch_size=64, sampler=sampler, num_workers=0, drop_last=True)
    model = resnet18_small(5, 3, width).to(device)  # normalisation happens in the transform: make the model's a no-op
    model.normalize.mean.zero_(); model.normalize.std.fill_(1.)
    ema = copy.deepcopy(model) if strategy.get('ema') else None
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    done, t0 = 0, None
    while done < steps + 2:
        for x, y, idx in dl:
            if done == 2: t0 = time.perf_counter()  # two warm-up steps
            x, y = x.to(device), y.to(device)
            if k > 1:  # HAM the usual way: one forward per variant, keep the highest-loss variant of each image
                with torch.no_grad():
                    losses = torch.stack([F.cross_entropy(model(x[:, j]), y, reduction='none') for j in range(k)], 1)
                x = x[torch.arange(len(x)), losses.argmax(1)]
            out = model(x)
            loss_i = F.cross_entropy(out, y, weight=None, reduction='none')
            if weights is not None: loss_i = loss_i * weights[y]
            loss = loss_i.mean()
            opt.zero_grad(); loss.backward(); opt.step()
            if strategy.get('hem'):
                scores[idx] = 0.9 * scores[idx] + 0.1 * loss_i.detach().cpu()
                sampler.weights = scores
            if ema is not None:
                with torch.no_grad():
                    for pe, p in zip(ema.state_dict().values(), model.state_dict().values()):
                        if pe.is_floating_point(): pe.mul_(0.99).add_(p, alpha=0.01)
                        else: pe.copy_(p)
            done += 1
            if done >= steps + 2: break
    if device.type == 'cuda': torch.cuda.synchronize()
    return time.perf_counter() - t0

# ---------------------------------------------------------------- ours: the library's training path
def ours_steps(ds, strategy, width, steps, device, seed=0):
    "Train `steps` batches through `build_plan` + `train_plan` (the real fastai path); returns seconds."
    from imbalance_study.core import Budget
    from imbalance_study.train import RunConfig, build_plan, train_plan
    n = 64 * (steps + 2)
    cfg = RunConfig('retinamnist', 'full', seed=seed, budget='tiny', width=width, **strategy)
    plan = build_plan(cfg, data=ds, device=device)
    plan.budget = Budget('bench', width, 0, n, ((n, n),), 1, 64)
    from fastai.callback.core import Callback
    class Clock(Callback):
        order = 100
        def after_batch(self):
            if self.training and self.learn.train_iter == 2:
                if device.type == 'cuda': torch.cuda.synchronize()
                self.t0 = time.perf_counter()
        def after_train(self):
            if device.type == 'cuda': torch.cuda.synchronize()
            self.t1 = time.perf_counter()
    clock = Clock(); plan.cbs.append(clock)
    train_plan(plan, progress=False)
    return clock.t1 - clock.t0

def peak_rss_of_smoke_run():
    "Peak resident memory (MiB) of a child process doing one smoke-budget run on generated data."
    code = ("import resource, tempfile, torch; torch.set_num_threads(1);"
            "from imbalance_study.data import write_fake_dataset, load_dataset;"
            "from imbalance_study.train import run, RunConfig; import imbalance_study;"
            "r = tempfile.mkdtemp(); write_fake_dataset('retinamnist', r, train_counts=[486,128,206,194,66]);"
            "from imbalance_study.core import BUDGETS;"
            "run(RunConfig('retinamnist','long_tail', budget='smoke', augment='trivialaugment' if 'augment' in imbalance_study.STRATEGIES else 'none'), data=load_dataset('retinamnist', root=r), progress=False);"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else f"failed: {out.stderr[-300:]}"

def concurrent_runs(name, n, args):
    "Start `n` processes each training `name` through our path at once; returns (seconds per process, wall seconds)."
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', '--variants', name, '--device', args.device,
           '--width', str(args.width), '--steps', str(args.steps)] + (['--threads', str(args.threads)] if args.threads else [])
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    outs = [p.communicate() for p in procs]
    wall = time.perf_counter() - t0
    bad = [err[-400:] for p, (out, err) in zip(procs, outs) if p.returncode != 0]
    if bad: raise RuntimeError(f"a concurrent run failed: {bad[0]}")
    res = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    return [r['seconds'] for r in res], wall, max(r['peak_gpu_mib'] for r in res)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--width', type=int, default=16)
    ap.add_argument('--steps', type=int, default=30); ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--variants', nargs='*', default=None, help=f"subset of {list(VARIANTS)}")
    ap.add_argument('--no-memory', action='store_true'); ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--concurrent', type=int, default=0, help='also time N concurrent runs of ours (processes) per variant')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)  # one timed run of ours, JSON on stdout
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    import imbalance_study
    device = torch.device(args.device)
    ds = fake_data(tempfile.mkdtemp())
    if args.worker:
        secs = ours_steps(ds, VARIANTS[args.variants[0]], args.width, args.steps, device)
        peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == 'cuda' else 0.
        print(json.dumps(dict(seconds=secs, peak_gpu_mib=peak))); return
    names = args.variants or list(VARIANTS)
    names = [n for n in names if all(k in imbalance_study.STRATEGIES for k, v in VARIANTS[n].items() if v not in (False, 'none'))]
    print(f"# evidence: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, "
          f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else platform.processor() or platform.machine()}), "
          f"threads {torch.get_num_threads()}, ResNet-18 width {args.width}, batch 64, 28 px RGB generated data, "
          f"{args.steps} timed steps x {args.repeats} repeats (median), alternating reference/ours")
    rows = []
    for name in names:
        ref_t, our_t = [], []
        for rep in range(args.repeats):
            ref_t.append(reference_steps(ds, VARIANTS[name], args.width, args.steps, device, rep))
            our_t.append(ours_steps(ds, VARIANTS[name], args.width, args.steps, device, rep))
        ref_sps, our_sps = 64 * args.steps / statistics.median(ref_t), 64 * args.steps / statistics.median(our_t)
        rows.append((name, ref_sps, our_sps, our_sps / ref_sps))
        print(f"{name:52s} reference {ref_sps:8.1f} samples/s   ours {our_sps:8.1f} samples/s   ratio {our_sps / ref_sps:5.2f}x", flush=True)
        if args.concurrent > 1:
            secs, wall, peak = concurrent_runs(name, args.concurrent, args)
            per_run = [64 * args.steps / s_ for s_ in secs]
            print(f"{'':52s} {args.concurrent} concurrent runs of ours: {statistics.median(per_run):8.1f} samples/s per run, "
                  f"{sum(per_run):8.1f} in aggregate ({sum(per_run) / our_sps:4.2f}x one run alone; "
                  f"{args.concurrent * 64 * (args.steps + 2) / wall:.1f} over the whole wall time incl. start-up)"
                  + (f", peak GPU memory per run {peak:.0f} MiB" if device.type == 'cuda' else ''), flush=True)
    if device.type == 'cuda':
        print(f"peak GPU memory (this process, all runs): {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    if not args.no_memory: print(f"peak resident memory of one smoke run (child process): {peak_rss_of_smoke_run()} MiB")

if __name__ == '__main__': main()
