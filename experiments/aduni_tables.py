"""AdUni paper Tables 1 and 2 on RetinaMNIST (the APTOS analogue): runs every config x seed in priority order,
appending each finished run to a JSONL file (resumable: finished keys are skipped), then `--report` builds the tables.

    IMBALANCE_STUDY_DATA=/work/shared/data nice -n 10 python experiments/aduni_tables.py --budget smoke --seeds 0 1 2
    python experiments/aduni_tables.py --report
"""
import argparse, json, time, traceback
from pathlib import Path
import numpy as np, torch

TABLE1 = [('CE', None, {}), ('Balanced Softmax', 'balanced_softmax', {}), ('LDAM', 'ldam', {}), ('cRT', 'crt', {}),
          ('AdUni', 'aduni', {})]
SAMPLER_NAMES = dict(none='w/o sampling', up='up-sampling', sqrt='SqRt sampling', progressive='ProBal sampling')
TABLE2 = [(f"alpha 0.01, {SAMPLER_NAMES[s]}", 'aduni', dict(alpha_schedule='fixed', alpha=0.01, sampler=s)) for s in SAMPLER_NAMES] + \
         [(f"alpha 1->0.01, {SAMPLER_NAMES[s]}", 'aduni', dict(sampler=s) if s != 'none' else {}) for s in SAMPLER_NAMES]

def jobs(seeds, budget):
    from imbalance_study.train import RunConfig
    out = []
    for table, profile, rows in (('table1', 'long_tail', TABLE1), ('table1', 'full', TABLE1), ('table2', 'long_tail', TABLE2)):
        for seed in seeds:
            for name, method, args in rows:
                out.append((table, name, RunConfig('retinamnist', profile, method=method, method_args=dict(args), seed=seed, budget=budget)))
    return out

def done_keys(path):
    if not path.exists(): return set()
    return {json.loads(l)['key'] for l in path.open() if l.strip()}

def main_run(a):
    torch.set_num_threads(1)
    import imbalance_study.aduni  # registers aduni, balanced_softmax, ldam, crt
    from imbalance_study.data import load_dataset
    from imbalance_study.train import run
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    ds = load_dataset('retinamnist')
    for table, name, cfg in jobs(a.seeds, a.budget):
        if cfg.key() in done_keys(out): continue
        t0 = time.time()
        try:
            rec = run(cfg, data=ds, device='cpu', progress=False).to_dict()
            rec.pop('history', None) if a.drop_history else None
            rec.update(table=table, name=name, status='ok')
        except Exception as e:
            rec = dict(key=cfg.key(), config=cfg.canonical(), table=table, name=name, status='failed', error=repr(e), trace=traceback.format_exc())
        with out.open('a') as f: f.write(json.dumps(rec) + '\n')
        print(f"{time.strftime('%H:%M:%S')} {table} {cfg.profile} {name} s{cfg.seed}: {rec.get('status')} "
              f"acc {rec.get('test', {}).get('accuracy', float('nan')):.3f} F1 {rec.get('test', {}).get('macro_f1', float('nan')):.3f} ({time.time() - t0:.0f}s)", flush=True)

def ms(v): return f"{np.mean(v):.3f} +- {np.std(v, ddof=1) if len(v) > 1 else 0:.3f}" if v else 'not run'

def report(a):
    recs = [json.loads(l) for l in Path(a.out).open() if l.strip()]
    ok = [r for r in recs if r['status'] == 'ok']
    lines = []
    groups = {}
    for r in ok: groups.setdefault((r['table'], r['config']['profile'], r['name']), []).append(r)
    budget = sorted({r['budget'] for r in ok})
    lines.append(f"Budget {budget}; test metrics of the best-on-validation checkpoint; mean +- sd over n seeds.\n")
    for table, profiles, rows in (('table1', ('long_tail', 'full'), TABLE1), ('table2', ('long_tail',), TABLE2)):
        lines.append(f"**{'Table 1: methods' if table == 'table1' else 'Table 2: alpha fixed vs adaptive, samplers'}**\n")
        hdr = '| Method | ' + ' | '.join(f"{p} Acc | {p} Macro-F1 | n" for p in profiles) + ' |'
        lines += [hdr, '|' + '---|' * (1 + 3 * len(profiles))]
        for name, _, _ in rows:
            cells = []
            for p in profiles:
                g = groups.get((table, p, name), [])
                if table == 'table2' and name == 'alpha 1->0.01, w/o sampling' and not g: g = groups.get(('table1', p, 'AdUni'), [])
                cells += [ms([r['test']['accuracy'] for r in g]), ms([r['test']['macro_f1'] for r in g]), str(len(g))]
            lines.append(f"| {name} | " + ' | '.join(cells) + ' |')
        lines.append('')
    lines.append("**Per-class test F1 (mean over seeds), Table 1**\n")
    lines += ['| Profile | Method | ' + ' | '.join(f'class {c}' for c in range(5)) + ' | n |', '|' + '---|' * 8]
    for p in ('long_tail', 'full'):
        for name, _, _ in TABLE1:
            g = groups.get(('table1', p, name), [])
            if not g: continue
            pc = np.mean([r['test']['per_class_f1'] for r in g], 0)
            lines.append(f"| {p} | {name} | " + ' | '.join(f"{v:.3f}" for v in pc) + f" | {len(g)} |")
    bad = [r for r in recs if r['status'] != 'ok']
    if bad: lines.append(f"\nFailed runs: {[(r['name'], r['config']['seed'], r['error']) for r in bad]}")
    times = [r['wall_time_s'] for r in ok]
    if times: lines.append(f"\n{len(ok)} runs, wall time per run {np.mean(times):.0f} s mean (CPU, 1 thread, shared machine).")
    print('\n'.join(lines))

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='runs/aduni/results.jsonl')
    p.add_argument('--budget', default='smoke')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--drop-history', action='store_true')
    p.add_argument('--report', action='store_true')
    a = p.parse_args()
    report(a) if a.report else main_run(a)
