"""Training-step variants on one device, to decide what the library should adopt (a benchmark-only prototype).

ResNet-18 (width 64 by default), batch 64, 28 px, bf16 autocast + channels-last, Adam; samples/s of:
  eager                 the library's fast path as it is
  compile               torch.compile(model)
  cuda graphs           torch.compile(model, mode='reduce-overhead') (CUDA graphs on CUDA; plain compile elsewhere)
  packed N (vmap)       N models trained at once as one: torch.func.stack_module_state + vmap(functional_call),
                        aggregate samples/s over the N models (BatchNorm without running statistics under vmap:
                        torch.func.replace_all_batch_norm_modules_; a prototype, not the library's model)

    python benchmarks/gpu_variants.py --device cuda --out runs/variants.json
    python benchmarks/gpu_variants.py --device cpu --quick     # dry run: every variant a few steps
"""
import argparse, copy, json, time
import torch, torch.nn.functional as F

def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def time_steps(step, steps, warmup, dev) -> float:
    for _ in range(warmup): step()
    _sync(dev); t = time.perf_counter()
    for _ in range(steps): step()
    _sync(dev); return time.perf_counter() - t

def single(width, dev, bs, mode=None):
    "A step function for one model, eager or compiled with `mode`."
    from imbalance_study.models import resnet18_small
    model = resnet18_small(10, 3, width).to(dev).to(memory_format=torch.channels_last)
    fwd = model if mode is None else torch.compile(model, mode=None if mode == 'default' else mode)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    x = torch.rand(bs, 3, 28, 28, device=dev).contiguous(memory_format=torch.channels_last); y = torch.randint(0, 10, (bs,), device=dev)
    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16): loss = F.cross_entropy(fwd(x), y)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    return step

def packed(n, width, dev, bs):
    "A step function training `n` models at once with vmap over stacked parameters."
    from torch.func import stack_module_state, functional_call, vmap, replace_all_batch_norm_modules_
    from imbalance_study.models import resnet18_small
    models = [replace_all_batch_norm_modules_(resnet18_small(10, 3, width)).to(dev) for _ in range(n)]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to('meta')
    f = lambda p, b, x: functional_call(base, (p, b), (x,))
    opt = torch.optim.Adam(list(params.values()), lr=5e-4)
    x = torch.rand(n, bs, 3, 28, 28, device=dev); y = torch.randint(0, 10, (n * bs,), device=dev)
    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16): loss = F.cross_entropy(vmap(f)(params, buffers, x).flatten(0, 1), y) * n
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    return step

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cuda'); ap.add_argument('--width', type=int, default=64)
    ap.add_argument('--steps', type=int, default=50); ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--packed', type=int, nargs='*', default=[4, 8, 16]); ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--quick', action='store_true', help='width 8, 2 steps, 1 warm-up, packed 2: a dry run')
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    if a.quick: a.width, a.steps, a.warmup, a.packed = 8, 2, 1, [2]
    dev = torch.device(a.device)
    if dev.type == 'cpu': torch.set_num_threads(1)
    print(f"# {dev} ({torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'}), torch {torch.__version__}, ResNet-18 width {a.width}, "
          f"batch {a.bs}, bf16 autocast, {a.steps} timed steps after {a.warmup} warm-up (compile time excluded, printed apart)"
          + (" [--quick: a dry run]" if a.quick else ''))
    out = {}
    variants = [('eager', lambda: single(a.width, dev, a.bs)), ('compile', lambda: single(a.width, dev, a.bs, 'default')),
                ('cuda graphs', lambda: single(a.width, dev, a.bs, 'reduce-overhead'))]
    variants += [(f'packed {n} (vmap)', (lambda n=n: packed(n, a.width, dev, a.bs))) for n in a.packed]
    for name, make in variants:
        n = int(name.split()[1]) if name.startswith('packed') else 1
        try:
            t0 = time.perf_counter(); step = make(); step(); _sync(dev); first = time.perf_counter() - t0
            secs = time_steps(step, a.steps, a.warmup, dev)
            sps = n * a.bs * a.steps / secs
            out[name] = dict(samples_per_s=sps, first_step_s=first, models=n)
            if dev.type == 'cuda': out[name]['peak_gpu_mib'] = torch.cuda.max_memory_allocated() / 2**20; torch.cuda.reset_peak_memory_stats()
            print(f"{name:18s} {sps:10.1f} samples/s ({n} model(s); {sps / out['eager']['samples_per_s']:5.2f}x eager; first step incl. compile {first:6.1f}s)"
                  + (f", peak GPU memory {out[name]['peak_gpu_mib']:.0f} MiB" if dev.type == 'cuda' else ''), flush=True)
        except Exception as e:
            out[name] = dict(error=f"{type(e).__name__}: {e}"[:500])
            print(f"{name:18s} FAILED: {out[name]['error']}", flush=True)
    if a.out: json.dump(out, open(a.out, 'w'), indent=1)
    if any('error' in v for v in out.values()): raise SystemExit(1)

if __name__ == '__main__': main()
