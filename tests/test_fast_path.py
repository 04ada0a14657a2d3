"""Results unchanged by the fast path (issue 10): on CPU the same seed gives the same training trajectory as before
the GPU fast path (`DeviceFastPath`: channels-last, bf16 autocast, compile) existed.

The expected train losses were printed by commit e741cca, the last commit before the fast path (f47ca21), running
the configs below at the `tiny` budget on the generated data of this file (1 CPU thread), and were equal, bit for
bit, to what main printed on 2026-11-23. The tolerance (5e-4 relative) absorbs floating-point differences between
CPUs but not the fast path: channels-last alone moves the third loss by 2.3e-3 relative, bf16 autocast by 7e-3
(measured on CPU by adding `DeviceFastPath` to a plan there).
"""
import pytest, torch
from imbalance_study import RunConfig, run, load_dataset
from imbalance_study.data import write_fake_dataset
from imbalance_study.train import build_plan

BEFORE_FAST_PATH = {  # strategy fields -> train loss at the 4 evaluation points (128, 256, 384, 512 samples)
    'baseline': ({}, [1.481306, 1.26675, 1.02082, 0.934786]),
    'hem+batch_balance': (dict(hem=True, batch_balance=True), [1.662078, 1.470361, 1.187934, 0.938046]),
    'ema+loss_reweight': (dict(ema=True, loss_reweight=True), [1.689407, 1.44841, 1.265209, 1.155534]),
}

@pytest.fixture(scope='module')
def retina(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    write_fake_dataset('retinamnist', root, train_counts=[486, 128, 206, 194, 66], val_counts=[12] * 5, test_counts=[12] * 5)
    return load_dataset('retinamnist', root=root)

@pytest.fixture
def one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

@pytest.mark.parametrize('name', list(BEFORE_FAST_PATH))
def test_cpu_trajectory_as_before_the_fast_path(name, retina, one_thread):
    fields, want = BEFORE_FAST_PATH[name]
    r = run(RunConfig('retinamnist', 'long_tail', budget='tiny', seed=1, **fields), data=retina, device='cpu', progress=False)
    assert [h['samples'] for h in r.history] == [128, 256, 384, 512]
    assert [h['train_loss'] for h in r.history] == pytest.approx(want, rel=5e-4), name

def test_fast_path_is_cuda_only(retina):
    "On CPU no `DeviceFastPath` joins the Learner: the CPU results above are the plain path's."
    from imbalance_study.train import train_plan
    plan = build_plan(RunConfig('retinamnist', 'long_tail', budget='tiny', seed=1), data=retina, device='cpu')
    seen = []
    from fastai.callback.core import Callback
    class Stop(Exception): pass
    class Record(Callback):
        order = 99
        def before_fit(self): seen.extend(type(c).__name__ for c in self.learn.cbs); raise Stop("recorded")
    plan.cbs.append(Record())
    with pytest.raises(Stop): train_plan(plan, progress=False)
    assert 'ProtocolCallback' in seen and 'DeviceFastPath' not in seen
