"""Projected GPU-hours of the paper's full grid: 1,344 configurations (4 datasets x 3 profiles x 112) x 3 seeds at
the `paper` budget (ResNet-18 width 64, 1M to 16M samples per run), from the figures of one GPU check.

    python benchmarks/gpu_projection.py THROUGHPUT.json CONCURRENCY.json

Each configuration's training rate is the measured single-run bf16 rate of its closest measured strategy (HAM, an
augmentation tier, OHEM, EMA, else the baseline), times the aggregate gain of the best measured number of concurrent
runs per GPU (measured on the baseline). Printed as a range: every run stopping at the minimum (1M samples) or going
to the maximum (16M); evaluation time is not included (the validation sets are small), nor start-up.
"""
import json, sys

def closest(aug, hem, ham, ema):
    if ham: return 'trivialaugment+ham'
    if aug != 'none': return 'trivialaugment'
    if hem: return 'hem'
    if ema: return 'ema'
    return 'baseline'

def main(tp_path, conc_path):
    tp, conc = json.load(open(tp_path)), json.load(open(conc_path))
    rate = {k: v['samples_per_s'].get('ours bf16') for k, v in tp['strategies'].items()}
    if rate.get('baseline') is None: raise SystemExit("the throughput figures have no bf16 baseline rate")
    cc = conc['strategies']['baseline'].get('concurrent', {})
    if not cc: raise SystemExit("the concurrency figures have no concurrent runs of the baseline")
    single = conc['strategies']['baseline']['samples_per_s']['ours bf16']
    best_n, best = max(((k, v['aggregate']) for k, v in cc.items()), key=lambda kv: kv[1])
    gain = best / single
    import itertools
    per_config = []   # seconds per million samples, per configuration of the 112
    for aug, hem, ham, bb, lr, ema in itertools.product(('none', 'classical', 'randaugment', 'trivialaugment'), *[(False, True)] * 5):
        if ham and aug == 'none': continue
        r = rate.get(closest(aug, hem, ham, ema)) or rate['baseline']
        per_config.append(1e6 / (r * gain))
    n_cells, seeds = 12, 3
    hours = {s: sum(per_config) * s / 1e6 * n_cells * seeds / 3600 for s in (1_000_000, 16_000_000)}
    print(f"device {tp['device']}, width {tp['width']}: single-run bf16 baseline {rate['baseline']:.0f} samples/s; best concurrency "
          f"{best_n} per GPU gives {best:.0f} samples/s in aggregate ({gain:.2f}x)")
    print(f"projected GPU-hours of 1,344 configurations x {seeds} seeds at the paper budget: {hours[1_000_000]:.0f} (every run "
          f"stopping at 1M samples) to {hours[16_000_000]:.0f} (every run to 16M), training only")
    return hours

if __name__ == '__main__':
    if len(sys.argv) != 3: raise SystemExit(__doc__)
    main(*sys.argv[1:])
