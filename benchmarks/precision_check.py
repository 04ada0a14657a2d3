"""Does bf16 change the study's conclusions? Baseline, TrivialAugment and the top stack on real RetinaMNIST long_tail
at the smoke budget, 3 seeds in each precision, test macro-F1 mean +- sd side by side (issue 18).

    IMBALANCE_STUDY_DATA=/path/to/data python benchmarks/precision_check.py          # run what is missing, then print
    python benchmarks/precision_check.py --report-only                              # print from the committed stores

Seed 0 of every strategy comes from the two committed 112-configuration grids (fp32 and bf16; a seed-0 run the bf16
grid has not reached yet is run into that grid's store, where the grid will find it done); seeds 1 and 2 are run
here, resumably, into results/precision_check/results.sqlite with `imbalance-study grid`. (Run times are left out:
these runs shared the machine with other work; the grids' stores and benchmarks/throughput.py measure speed.)
"""
import argparse, subprocess, sys
from pathlib import Path
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]/'results'
STORES = {'fp32': ROOT/'hierarchy'/'results.sqlite',
          'bf16': ROOT/'retinamnist_long_tail_smoke_bf16_seed0'/'results.sqlite'}
OWN = ROOT/'precision_check'/'results.sqlite'
STRATEGIES = ['baseline', 'trivialaugment', 'trivialaugment+ham+loss_reweight+ema']   # the top stack as the paper's Table 1 reports it

def _grid(store, precision, seeds, workers):
    cmd = [sys.executable, '-m', 'imbalance_study.cli', 'grid', '--datasets', 'retinamnist', '--profiles', 'long_tail',
           '--strategies', *STRATEGIES, '--seeds', *map(str, seeds), '--budget', 'smoke', '--precision', precision,
           '--workers', str(workers), '--store', str(store), '--artifacts', str(Path('runs')/'precision_check_notebooks')]
    print('$', ' '.join(cmd[1:]), flush=True)
    if subprocess.run(cmd).returncode: raise SystemExit(f"the {precision} runs did not all finish")

def run_missing(workers:int):
    "Seed 0 into the grid stores (it is part of those grids: nothing runs twice), seeds 1 and 2 into this check's own store."
    _grid(STORES['bf16'], 'bf16', [0], workers)   # the committed fp32 grid holds every seed-0 fp32 run
    for p in ('fp32', 'bf16'): _grid(OWN, p, [1, 2], workers)

def table() -> pd.DataFrame:
    from imbalance_study.study.store import load_results
    frames = [load_results(s) for s in [*STORES.values(), OWN] if s.exists()]
    df = pd.concat(frames, ignore_index=True)
    df = df[(df.dataset == 'retinamnist') & (df.profile == 'long_tail') & (df.budget == 'smoke') & df.label.isin(STRATEGIES)
            & df.seed.isin([0, 1, 2]) & df.method.isna()]
    df = df.drop_duplicates('key')
    g = df.groupby(['label', 'precision']).agg(mean=('test_macro_f1', 'mean'), sd=('test_macro_f1', 'std'), n=('seed', 'nunique'),
                                               seeds=('seed', lambda s: ' '.join(map(str, sorted(s)))))
    return g.reset_index()

def show(t:pd.DataFrame):
    wide = t.pivot(index='label', columns='precision', values=['mean', 'sd', 'n']).reindex(STRATEGIES)
    print("test macro-F1 of the checkpoint selected on validation, mean +- sd over seeds (real RetinaMNIST long_tail, smoke budget, "
          "ResNet-18 width 16, one CPU thread per run; evaluation float32 in both)")
    print(f"{'strategy':42s} {'fp32 (seeds)':>22s} {'bf16 (seeds)':>22s} {'bf16 - fp32':>12s}")
    for lbl, r in wide.iterrows():
        cell = lambda p: f"{r[('mean', p)]:.3f} +- {r[('sd', p)]:.3f} ({int(r[('n', p)])})" if pd.notna(r.get(('mean', p))) else 'missing'
        d = r.get(('mean', 'bf16'), float('nan')) - r.get(('mean', 'fp32'), float('nan'))
        print(f"{lbl:42s} {cell('fp32'):>22s} {cell('bf16'):>22s} {d:+12.3f}")
    for p in ('fp32', 'bf16'):
        order = t[t.precision == p].sort_values('mean', ascending=False).label.tolist()
        print(f"ranking in {p}: {' > '.join(order)}")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--report-only', action='store_true'); ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    if not a.report_only: run_missing(a.workers)
    show(table())
