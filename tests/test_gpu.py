"""The CUDA path: runs on a GPU when one is visible, skipped otherwise. `benchmarks/gpu_check.sh` runs this file on
the GPU machine; `IMBALANCE_STUDY_TEST_DEVICE=cpu` forces it onto the CPU (the script's dry run), so that every test
here has run before first contact with a GPU."""
import os, pytest, torch
from imbalance_study import RunConfig, run, load_dataset
from imbalance_study.train import build_plan, train_plan

DEVICE = os.environ.get('IMBALANCE_STUDY_TEST_DEVICE') or ('cuda' if torch.cuda.is_available() else None)
pytestmark = pytest.mark.skipif(DEVICE is None, reason="no CUDA GPU (set IMBALANCE_STUDY_TEST_DEVICE=cpu to run these on the CPU)")

@pytest.fixture(scope='module')
def retina(fake_data): return load_dataset('retinamnist', root=fake_data)

@pytest.mark.parametrize('precision', ['fp32', 'bf16'])
@pytest.mark.parametrize('fields', [{}, dict(augment='trivialaugment', ham=True, ema=True, loss_reweight=True), dict(hem=True, batch_balance=True)],
                         ids=['baseline', 'top-stack', 'hem+batch_balance'])
def test_tiny_run_on_the_device(retina, precision, fields):
    r = run(RunConfig('retinamnist', 'long_tail', budget='tiny', seed=0, precision=precision, **fields), data=retina, device=DEVICE, progress=False)
    assert r.device.startswith(DEVICE) and r.precision == precision
    assert [h['samples'] for h in r.history] == [128, 256, 384, 512]
    assert all(torch.isfinite(torch.tensor(h['train_loss'])) for h in r.history)
    assert 0 <= r.test['macro_f1'] <= 1

def test_ham_batched_and_chunked_scoring_agree_on_the_device():
    "HAM's one batched forward with per-variant BatchNorm statistics (the GPU default) equals K forwards of B."
    from imbalance_study.strategies.ham import HardAdversarialMining
    from imbalance_study.losses import per_sample_loss
    from imbalance_study.models import resnet18_small
    from imbalance_study.core import make_generator
    import torch.nn as nn
    model = resnet18_small(5, 3, width=8).to(DEVICE).train()
    x = torch.randint(0, 256, (16, 3, 28, 28), dtype=torch.uint8, device=DEVICE).float() / 255
    y = torch.randint(0, 5, (16,), device=DEVICE)
    out = []
    for batched in (True, False):
        ham = HardAdversarialMining('trivialaugment', make_generator(0, DEVICE, 2), K=4, batched=batched)
        ham.score = per_sample_loss(nn.CrossEntropyLoss())
        out.append(ham.select(model, x, y))
    torch.testing.assert_close(out[0][2], out[1][2], rtol=1e-4, atol=1e-4)
    assert torch.equal(out[0][0], out[1][0])

def test_evaluation_is_float32_whatever_the_training_precision(retina):
    from imbalance_study.train import predict
    plan = build_plan(RunConfig('retinamnist', 'long_tail', budget='tiny', precision='bf16'), data=retina, device=DEVICE)
    best, _ = train_plan(plan, progress=False)
    assert predict(best, retina.test.x[:8]).dtype == torch.float32

def test_runs_per_gpu_slots():
    "The local executor gives each GPU `runs_per_gpu` slots (on the CPU dry run: the slots it is given)."
    from imbalance_study.study.executors import LocalExecutor
    ex = LocalExecutor(mode='inline', runs_per_gpu=3, devices=None if DEVICE == 'cuda' else ['cpu'] * 3)
    try: assert ex.slots == 3 * (torch.cuda.device_count() if DEVICE == 'cuda' else 1)
    finally: ex.close()
