"""Training throughput: the library's path (uint8 tensors, batched per-image augmentation, fastai Learner) in fp32 and
in bf16 (channels-last + bf16 autocast, `RunConfig.precision`) against a plain PyTorch reference written the way most
papers' code is (torch DataLoader over PIL images, per-sample torchvision transforms, an eager fp32 loop), same model,
same strategy, same machine, alternating runs in one invocation; then the per-run start-up overhead of the grid's
papermill runs, and the projected wall time of the 112-configuration smoke grid on this machine.

    python benchmarks/throughput.py                  # CPU, width 16, 30 steps per measurement, 3 repeats
    python benchmarks/throughput.py --device cuda --width 64 --steps 200
    python benchmarks/throughput.py --device cuda --concurrent 1 2 4 8 16 --variants baseline   # N concurrent runs
    python benchmarks/throughput.py --quick          # every part, a few steps each (a dry run of the script)

Every figure is a ratio against a reference measured in the same run, or a time measured in it (the machines are
shared and noisy); `--out FILE` also writes them as JSON.
"""
import argparse, copy, datetime, json, math, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch, torch.nn.functional as F

VARIANTS = {  # name -> strategy fields of RunConfig
    'baseline': {},
    'trivialaugment': dict(augment='trivialaugment'),
    'trivialaugment+ham': dict(augment='trivialaugment', ham=True),
    'hem': dict(hem=True),
    'ema': dict(ema=True),
    'top stack (trivialaugment+ham+ema+loss_reweight)': dict(augment='trivialaugment', ham=True, ema=True, loss_reweight=True),
}
COMMITTED_GRID = Path(__file__).resolve().parents[1]/'results'/'hierarchy'/'results.sqlite'

def fake_data(root, n_per_class=216):
    from imbalance_study.data.core import write_fake_dataset, load_dataset
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
def ours_steps(ds, strategy, width, steps, device, seed=0, precision='fp32'):
    "Train `steps` batches through `build_plan` + `train_plan` (the real fastai path) in `precision`; returns seconds."
    from imbalance_study.core import Budget
    from imbalance_study.train import RunConfig, build_plan, train_plan
    n = 64 * (steps + 2)
    cfg = RunConfig('retinamnist', 'full', seed=seed, budget='tiny', width=width, precision=precision, **strategy)
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

def peak_rss_of_smoke_run(precision):
    "Peak resident memory (MiB) of a child process doing one smoke-budget run on generated data."
    code = ("import resource, tempfile, torch; torch.set_num_threads(1);"
            "from imbalance_study.data.core import write_fake_dataset, load_dataset;"
            "from imbalance_study.train import run, RunConfig; import imbalance_study;"
            "r = tempfile.mkdtemp(); write_fake_dataset('retinamnist', r, train_counts=[486,128,206,194,66]);"
            f"run(RunConfig('retinamnist','long_tail', budget='smoke', augment='trivialaugment', precision='{precision}'), data=load_dataset('retinamnist', root=r), progress=False);"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else f"failed: {out.stderr[-300:]}"

def concurrent_runs(name, n, args, precision):
    "Start `n` processes each training `name` through our path at once; returns (seconds per process, wall seconds, peak GPU MiB)."
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', '--variants', name, '--device', args.device, '--precisions', precision,
           '--width', str(args.width), '--steps', str(args.steps)] + (['--threads', str(args.threads)] if args.threads else [])
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    outs = [p.communicate() for p in procs]
    wall = time.perf_counter() - t0
    bad = [err[-400:] for p, (out, err) in zip(procs, outs) if p.returncode != 0]
    if bad: raise RuntimeError(f"a concurrent run failed: {bad[0]}")
    res = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    return [r['seconds'] for r in res], wall, max(r['peak_gpu_mib'] for r in res)

# ---------------------------------------------------------------- start-up cost of one grid run
def import_seconds(module, repeats=3):
    "Median seconds to import `module` in a fresh interpreter."
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    ts = [float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()[-1])
          for _ in range(repeats)]
    return statistics.median(ts)

def startup_overhead(root, repeats=2, device='cpu'):
    "Median seconds a papermill run spends outside `run()` (kernel start, imports, writing the record), and inline."
    from imbalance_study.study.executors import execute_run
    from imbalance_study.train import RunConfig
    cfg = RunConfig('retinamnist', 'long_tail', budget='tiny', seed=0).canonical()
    out = {}
    for mode in ('papermill', 'inline'):
        o = [execute_run(cfg, mode=mode, device=device, data_root=root) for _ in range(repeats)]
        bad = [x['error'] for x in o if x['status'] != 'done']
        if bad: raise RuntimeError(f"{mode} run failed: {bad[0]}")
        out[mode] = statistics.median(x['overhead_s'] for x in o)
    return out

# ---------------------------------------------------------------- the 112-configuration smoke grid, projected
def _family(strategy:dict) -> str:
    if strategy.get('ham'): return 'trivialaugment+ham'
    if strategy.get('augment', 'none') != 'none': return 'trivialaugment'
    return 'baseline'

def project_grid(speedup:dict, overhead_s:float, slots=2):
    """Projected wall time (s) of the 112-configuration RetinaMNIST long_tail smoke grid on `slots` slots: each run's
    training time in the committed fp32 grid divided by the measured bf16/fp32 ratio of its closest measured strategy
    (HAM, augmentation, or the baseline), plus the measured start-up overhead, scheduled longest first."""
    from imbalance_study.study.store import ResultsStore
    from imbalance_study.train import RunConfig
    from imbalance_study.study.cost import makespan
    if not COMMITTED_GRID.exists(): return None
    with ResultsStore(COMMITTED_GRID, readonly=True) as s:   # the hierarchy study's factorial grid: long_tail, seed 0
        rows = [r for r in s.rows('done') if r['profile'] == 'long_tail' and r['seed'] == 0 and r['budget'] == 'smoke']
    fp32 = [r['wall_time_s'] + (r['overhead_s'] or 0) for r in rows]
    fam = [_family(RunConfig(**r['config']).strategies()) for r in rows]
    bf16 = [r['wall_time_s'] / speedup.get(f, speedup['baseline']) + overhead_s for r, f in zip(rows, fam)]
    return dict(n_runs=len(rows), fp32_lpt_s=makespan(sorted(fp32, reverse=True), slots),
                bf16_lpt_s=makespan(sorted(bf16, reverse=True), slots), bf16_lower_bound_s=sum(bf16) / slots, slots=slots)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--width', type=int, default=16)
    ap.add_argument('--steps', type=int, default=30); ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--variants', nargs='*', default=None, help=f"subset of {list(VARIANTS)}")
    ap.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'], choices=['fp32', 'bf16'], help='precisions of our path to measure')
    ap.add_argument('--no-memory', action='store_true'); ap.add_argument('--no-startup', action='store_true')
    ap.add_argument('--no-projection', action='store_true'); ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--concurrent', type=int, nargs='*', default=[], help='also time N concurrent runs of ours (processes) per variant, for each N')
    ap.add_argument('--quick', action='store_true', help='every part with 3 steps and 1 repeat: checks the script, measures nothing')
    ap.add_argument('--out', default=None, help='also write every figure to this JSON file')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)  # one timed run of ours, JSON on stdout
    args = ap.parse_args()
    if args.quick: args.steps, args.repeats = 3, 1
    if args.threads: torch.set_num_threads(args.threads)
    import imbalance_study
    device = torch.device(args.device)
    root = tempfile.mkdtemp()
    ds = fake_data(root)
    if args.worker:
        secs = ours_steps(ds, VARIANTS[args.variants[0]], args.width, args.steps, device, precision=args.precisions[0])
        peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == 'cuda' else 0.
        print(json.dumps(dict(seconds=secs, peak_gpu_mib=peak))); return
    names = args.variants or list(VARIANTS)
    names = [n for n in names if all(k in imbalance_study.STRATEGIES for k, v in VARIANTS[n].items() if v not in (False, 'none'))]
    from imbalance_study.core import native_bf16
    figures = dict(device=str(device), threads=torch.get_num_threads(), width=args.width, steps=args.steps, repeats=args.repeats,
                   torch=torch.__version__, native_bf16=native_bf16(device), strategies={})
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, "
          f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else platform.processor() or platform.machine()}; "
          f"native bf16: {figures['native_bf16']}), threads {torch.get_num_threads()}, ResNet-18 width {args.width}, batch 64, "
          f"28 px RGB generated data, {args.steps} timed steps x {args.repeats} repeats (median), alternating reference / ours per precision"
          + (" [--quick: a dry run, the figures mean nothing]" if args.quick else ''))
    cols = ['reference'] + [f'ours {p}' for p in args.precisions]
    print(f"{'strategy (samples/s)':50s}" + ''.join(f"{c:>13s}" for c in cols) + ''.join(f"{r:>16s}" for r in
          ([f'{p}/reference' for p in args.precisions] + (['bf16/fp32'] if len(args.precisions) == 2 else []))), flush=True)
    speedup = {}
    for name in names:
        times = {c: [] for c in cols}
        for rep in range(args.repeats):
            times['reference'].append(reference_steps(ds, VARIANTS[name], args.width, args.steps, device, rep))
            for p in args.precisions: times[f'ours {p}'].append(ours_steps(ds, VARIANTS[name], args.width, args.steps, device, rep, p))
        sps = {c: 64 * args.steps / statistics.median(t) for c, t in times.items()}
        ratios = [sps[f'ours {p}'] / sps['reference'] for p in args.precisions]
        if len(args.precisions) == 2: ratios.append(sps['ours bf16'] / sps['ours fp32']); speedup[name] = ratios[-1]
        figures['strategies'][name] = dict(samples_per_s=sps, ratios=dict(zip([f'{p}/reference' for p in args.precisions] + ['bf16/fp32'], ratios)))
        print(f"{name:50s}" + ''.join(f"{sps[c]:13.1f}" for c in cols) + ''.join(f"{r:15.2f}x" for r in ratios), flush=True)
        for n in args.concurrent:
            for p in args.precisions:
                secs, wall, peak = concurrent_runs(name, n, args, p)
                per_run = [64 * args.steps / s_ for s_ in secs]
                figures['strategies'][name].setdefault('concurrent', {})[f'{n} {p}'] = dict(
                    per_run=statistics.median(per_run), aggregate=sum(per_run), peak_gpu_mib=peak, wall_s=wall)
                print(f"{'':4s}{n:2d} concurrent runs, ours {p}: {statistics.median(per_run):8.1f} samples/s per run, "
                      f"{sum(per_run):9.1f} in aggregate ({sum(per_run) / sps[f'ours {p}']:5.2f}x one run alone)"
                      + (f", peak GPU memory per run {peak:.0f} MiB" if device.type == 'cuda' else ''), flush=True)
    if device.type == 'cuda':
        figures['peak_gpu_mib_this_process'] = torch.cuda.max_memory_allocated() / 2**20
        print(f"peak GPU memory (this process, all runs): {figures['peak_gpu_mib_this_process']:.0f} MiB")
    if not args.no_startup:
        imp = {m: import_seconds(m, 1 if args.quick else 3) for m in ('torch', 'fastai.learner', 'imbalance_study', 'diffusers', 'ray')}
        over = startup_overhead(root, 1 if args.quick else 2, args.device)
        figures['startup'] = dict(import_s=imp, overhead_s=over)
        print(f"start-up: import (fresh interpreter, median) " + ', '.join(f"{m} {t:.2f}s" for m, t in imp.items())
              + f" (imbalance_study imports neither diffusers nor ray until they are used)")
        print(f"start-up: seconds of a grid run outside run() (tiny run, median): papermill {over['papermill']:.2f}s, inline {over['inline']:.2f}s")
    if not args.no_projection and len(args.precisions) == 2 and 'baseline' in speedup:
        pr = project_grid(speedup, figures.get('startup', {}).get('overhead_s', {}).get('papermill', 8.))
        if pr:
            figures['projection'] = pr
            print(f"projected wall time of the {pr['n_runs']}-configuration RetinaMNIST long_tail smoke grid on {pr['slots']} slots "
                  f"(committed fp32 run times / the measured bf16/fp32 ratio of the closest strategy, + measured start-up; longest first): "
                  f"fp32 {pr['fp32_lpt_s'] / 60:.1f} min (the committed run times replayed), bf16 {pr['bf16_lpt_s'] / 60:.1f} min "
                  f"(lower bound {pr['bf16_lower_bound_s'] / 60:.1f} min). Assumes two concurrent runs keep these ratios.")
    if not args.no_memory:
        figures['peak_rss_mib'] = {p: peak_rss_of_smoke_run(p) for p in args.precisions} if not args.quick else {}
        for p, m in figures['peak_rss_mib'].items(): print(f"peak resident memory of one smoke run with trivialaugment ({p}, child process): {m} MiB")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(figures, indent=1, default=str))
        print(f"wrote {args.out}")

if __name__ == '__main__': main()
