#!/usr/bin/env python
"""Cost of a training step under each strategy, relative to the baseline step.

Measures the real training path: `build_plan(RunConfig(...))` applies the strategies, `train_plan` builds the fastai
Learner and fits it; a timing callback records the wall time between consecutive `after_batch` events, so a step
includes batch sampling, every callback's `before_batch` (augmentation, HAM's scoring pass), forward, backward and
the optimiser step, and excludes the single validation pass at the end of each run.

Every repeat runs every strategy once (a fresh plan and model each time) for `--steps` steps; the first `--warmup`
steps of a run are dropped and the run's median step time is kept. Repeats alternate the order of the strategies
(forward, then reversed) so that slow drifts of a shared machine hit all strategies alike. Reported: the median over
repeats of the per-run medians, and the median over repeats of the ratio to the baseline run of the same repeat.

    python benchmarks/strategy_cost.py                       # baseline, the 3 augmentation tiers, trivialaugment+ham
    python benchmarks/strategy_cost.py --add '{"hem": true}' --add '{"augment": "trivialaugment", "ema": true}'
    python benchmarks/strategy_cost.py --strategies '[{}, {"loss_reweight": true}]'

Strategies are `RunConfig` keyword dicts (`{}` is the baseline; it is always measured, first).
"""
import argparse, json, os, platform, statistics, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path

DEFAULT = [{}, {'augment': 'classical'}, {'augment': 'randaugment'}, {'augment': 'trivialaugment'},
           {'augment': 'trivialaugment', 'ham': True}, {'hem': True}, {'batch_balance': True}, {'loss_reweight': True},
           {'ema': True}, {'augment': 'trivialaugment', 'ham': True, 'ema': True, 'loss_reweight': True}]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--strategies', type=json.loads, default=None, help='JSON list of RunConfig keyword dicts (replaces the default list)')
    p.add_argument('--add', type=json.loads, action='append', default=[], help='a JSON RunConfig keyword dict to add (repeatable)')
    p.add_argument('--steps', type=int, default=24, help='training steps per run')
    p.add_argument('--warmup', type=int, default=4, help='steps dropped at the start of each run')
    p.add_argument('--repeats', type=int, default=5, help='runs per strategy (alternating order)')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    p.add_argument('--width', type=int, default=16, help='ResNet-18 base width')
    p.add_argument('--bs', type=int, default=64, help='batch size')
    p.add_argument('--device', default='cpu')
    p.add_argument('--out', default='runs/strategy_cost.json', help='JSON results file')
    a = p.parse_args(argv)

    import torch
    torch.set_num_threads(a.threads)
    import fastai
    import imbalance_study
    from imbalance_study.core import Budget, BUDGETS, library_versions
    from imbalance_study.data.core import write_fake_dataset, load_dataset
    from imbalance_study.train import RunConfig, build_plan, train_plan
    from fastai.callback.core import Callback
    import importlib
    for mod in ('augment', 'ham', 'hem', 'balance', 'reweight', 'ema'):   # register whatever strategy modules exist
        try: importlib.import_module(f'imbalance_study.{mod}')
        except ModuleNotFoundError: pass

    strategies = a.strategies if a.strategies is not None else list(DEFAULT)
    strategies = [s for s in strategies + a.add if s] 
    strategies = [{}] + [s for i, s in enumerate(strategies) if s not in strategies[:i]]

    n = a.steps * a.bs
    BUDGETS['bench'] = Budget('bench', width=a.width, min_samples=n, max_samples=n, schedule=((n, n),), patience=1, batch_size=a.bs)
    tmp = Path(tempfile.mkdtemp())
    # generated RetinaMNIST-shaped data: 28 px RGB, 5 classes, long-tail profile (900 train images)
    write_fake_dataset('retinamnist', tmp, train_counts=[486, 128, 206, 194, 66], val_counts=[20] * 5, test_counts=[20] * 5)
    ds = load_dataset('retinamnist', root=tmp)

    class StepTimer(Callback):
        order = 1000
        def before_fit(self): self.t = []
        def after_batch(self):
            if self.training:
                if torch.cuda.is_available() and str(a.device).startswith('cuda'): torch.cuda.synchronize()
                self.t.append(time.perf_counter())

    def measure(kw):
        cfg = RunConfig('retinamnist', 'long_tail', budget='bench', seed=0, **kw)
        plan = build_plan(cfg, data=ds, device=a.device)
        timer = StepTimer(); plan.cbs.append(timer)
        train_plan(plan, progress=False)
        steps = [t1 - t0 for t0, t1 in zip(timer.t[a.warmup:], timer.t[a.warmup + 1:])]
        return cfg.label(), statistics.median(steps)

    times = {}; ratios = {}
    for r in range(a.repeats):
        order = strategies if r % 2 == 0 else strategies[::-1]
        this = {}
        for kw in order:
            label, t = measure(kw)
            this[label] = t; times.setdefault(label, []).append(t)
            print(f"  repeat {r + 1}/{a.repeats}  {label:32s} {t * 1e3:8.1f} ms/step", file=sys.stderr, flush=True)
        for label, t in this.items(): ratios.setdefault(label, []).append(t / this['baseline'])

    now = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    dev = torch.cuda.get_device_name() if str(a.device).startswith('cuda') else (platform.processor() or platform.machine())
    load = os.getloadavg() if hasattr(os, 'getloadavg') else None
    header = ["# strategy_cost: ms per training step (real build_plan + fastai Learner path), relative to baseline",
              f"# date {now}; torch {torch.__version__}; fastai {fastai.__version__}; device {a.device} ({dev}); "
              f"threads {torch.get_num_threads()} of {os.cpu_count()} CPUs; load average at end {tuple(round(l, 1) for l in load) if load else 'n/a'}",
              f"# model ResNet-18 width {a.width}; batch {a.bs}; generated 28 px RGB data (RetinaMNIST-shaped); "
              f"{a.steps} steps per run, first {a.warmup} dropped, median per run; {a.repeats} repeats in alternating order, median over repeats"]
    rows = []
    for label in times:
        rows.append(dict(strategy=label, ms_per_step=1e3 * statistics.median(times[label]),
                         ms_min=1e3 * min(times[label]), ms_max=1e3 * max(times[label]),
                         ratio=statistics.median(ratios[label]), ratio_min=min(ratios[label]), ratio_max=max(ratios[label])))
    lines = header + ["", "| strategy | ms/step (median) | range over repeats | x baseline (median of paired ratios) | ratio range |",
                      "|---|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['strategy']} | {row['ms_per_step']:.1f} | {row['ms_min']:.1f}-{row['ms_max']:.1f} | "
                     f"{row['ratio']:.2f} | {row['ratio_min']:.2f}-{row['ratio_max']:.2f} |")
    print('\n'.join(lines))
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(header=header, args=vars(a), strategies=strategies, rows=rows, times_s=times,
                                   versions=library_versions(), date=now), indent=1, default=str))
    print(f"\n# written to {out}", file=sys.stderr)

if __name__ == '__main__': main()
