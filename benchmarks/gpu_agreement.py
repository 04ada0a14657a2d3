"""CPU-vs-device agreement on a tiny run (the GPU check, issue 18).

1. Train a short run (4,096 samples, width 8, generated data; it learns them) on the CPU in fp32 and take its selected checkpoint.
2. Evaluate that same checkpoint on the device: its test predictions must agree with the CPU's on at least 99% of the
   images and its test macro-F1 must be within 0.01 (the stated tolerance; evaluation is float32 on both).
3. For information (not asserted: different hardware trains different weights), train the same config on the device
   in fp32 and in bf16 and print the selected checkpoints' scores beside the CPU's.

    python benchmarks/gpu_agreement.py --device cuda      # exit 1 if step 2 is outside the tolerance
"""
import argparse, copy, json, sys, tempfile
import torch

AGREEMENT, F1_TOL = 0.99, 0.01

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cuda'); ap.add_argument('--out', default=None)
    ap.add_argument('--quick', action='store_true', help='accepted for gpu_check.sh --cpu-dry-run (the run is tiny anyway)')
    a = ap.parse_args()
    from imbalance_study import RunConfig, run, load_dataset
    from imbalance_study.data.core import write_fake_dataset
    from imbalance_study.train import predict
    from imbalance_study.metrics import classification_metrics
    root = tempfile.mkdtemp()
    write_fake_dataset('retinamnist', root, train_counts=[486, 128, 206, 194, 66], val_counts=[40] * 5, test_counts=[80] * 5)
    ds = load_dataset('retinamnist', root=root)
    from imbalance_study.core import BUDGETS, Budget   # a short budget that learns the generated data (tiny's 512 samples do not)
    BUDGETS['agreement'] = Budget('agreement', width=8, min_samples=4096, max_samples=4096, schedule=((4096, 1024),), patience=4)
    cfg = dict(dataset='retinamnist', profile='long_tail', budget='agreement', seed=0)
    torch.set_num_threads(1)
    r_cpu, m_cpu = run(RunConfig(**cfg, precision='fp32'), data=ds, device='cpu', progress=False, return_model=True)
    l_cpu = predict(m_cpu, ds.test.x)
    m_dev = copy.deepcopy(m_cpu).to(a.device)
    l_dev = predict(m_dev, ds.test.x.to(a.device)).cpu()
    p_cpu, p_dev = l_cpu.argmax(1), l_dev.argmax(1)
    dlogit = (l_cpu - l_dev).abs().max().item()
    agree = (p_cpu == p_dev).float().mean().item()
    f1_cpu = classification_metrics(ds.test.y, p_cpu, ds.n_classes)['macro_f1']
    f1_dev = classification_metrics(ds.test.y, p_dev, ds.n_classes)['macro_f1']
    ok = agree >= AGREEMENT and abs(f1_cpu - f1_dev) <= F1_TOL
    print(f"same checkpoint (trained on cpu, fp32), evaluated on cpu and on {a.device}: predictions agree on {100 * agree:.2f}% of "
          f"{len(p_cpu)} test images (tolerance >= {100 * AGREEMENT:.0f}%), test macro-F1 {f1_cpu:.4f} vs {f1_dev:.4f} "
          f"(tolerance {F1_TOL}); largest logit difference {dlogit:.2e}: {'PASS' if ok else 'FAIL'}")
    rows = {'cpu fp32': r_cpu}
    for p in ('fp32', 'bf16'): rows[f'{a.device} {p}'] = run(RunConfig(**cfg, precision=p), data=ds, device=a.device, progress=False)
    print(f"{'trained on':14s} {'val F1':>8s} {'test F1':>8s} {'selected at':>12s}  (information: each trains its own weights)")
    for k, r in rows.items(): print(f"{k:14s} {r.val['macro_f1']:8.4f} {r.test['macro_f1']:8.4f} {r.best_samples:12d}")
    if a.out:
        json.dump(dict(agreement=agree, max_logit_diff=dlogit, f1_cpu=f1_cpu, f1_device=f1_dev, ok=ok,
                       trained={k: dict(val=r.val['macro_f1'], test=r.test['macro_f1']) for k, r in rows.items()}), open(a.out, 'w'), indent=1)
    sys.exit(0 if ok else 1)

if __name__ == '__main__': main()
