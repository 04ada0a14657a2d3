"""Results unchanged by the fast path (issue 10): with `precision='fp32'` the same seed gives the same training
trajectory on CPU as before the fast path (`DeviceFastPath`: channels-last, bf16 autocast, compile) existed, and fp32
runs keep the store keys they had before `precision` existed. With `precision='bf16'` the fast path joins the Learner
on CPU too, and the record says so.

The expected train losses were printed by commit e741cca, the last commit before the fast path (f47ca21), running
the configs below at the `tiny` budget on the generated data of this file (1 CPU thread), and were equal, bit for
bit, to what main printed on 2026-11-23. The tolerance (5e-4 relative) absorbs floating-point differences between
CPUs but not the fast path: channels-last alone moves the third loss by 2.3e-3 relative, bf16 autocast by 7e-3
(measured on CPU by adding `DeviceFastPath` to a plan there).
"""
import pytest, torch
from imbalance_study import RunConfig, run, load_dataset
from imbalance_study.train import build_plan

BEFORE_FAST_PATH = {  # strategy fields -> train loss at the 4 evaluation points (128, 256, 384, 512 samples)
    'baseline': ({}, [1.481306, 1.26675, 1.02082, 0.934786]),
    'hem+batch_balance': (dict(hem=True, batch_balance=True), [1.662078, 1.470361, 1.187934, 0.938046]),
    'ema+loss_reweight': (dict(ema=True, loss_reweight=True), [1.689407, 1.44841, 1.265209, 1.155534]),
}

@pytest.fixture(scope='module')
def retina(fake_data): return load_dataset('retinamnist', root=fake_data)

@pytest.fixture
def one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

@pytest.mark.parametrize('name', list(BEFORE_FAST_PATH))
def test_cpu_trajectory_as_before_the_fast_path(name, retina, one_thread):
    fields, want = BEFORE_FAST_PATH[name]
    r = run(RunConfig('retinamnist', 'long_tail', budget='tiny', seed=1, precision='fp32', **fields), data=retina, device='cpu', progress=False)
    assert r.precision == 'fp32'
    assert [h['samples'] for h in r.history] == [128, 256, 384, 512]
    assert [h['train_loss'] for h in r.history] == pytest.approx(want, rel=5e-4), name

def _learner_callbacks(config, data):
    "Names of the callbacks of the Learner that `train_plan` builds for `config` (stopped before training)."
    from fastai.callback.core import Callback
    from imbalance_study.train import train_plan
    plan = build_plan(config, data=data, device='cpu')
    seen = []
    class Stop(Exception): pass
    class Record(Callback):
        order = 99
        def before_fit(self): seen.extend(type(c).__name__ for c in self.learn.cbs); raise Stop("recorded")
    plan.cbs.append(Record())
    with pytest.raises(Stop): train_plan(plan, progress=False)
    return plan, seen

def test_fp32_adds_no_fast_path(retina):
    "With fp32 no `DeviceFastPath` joins the Learner: the CPU results above are the plain path's."
    plan, seen = _learner_callbacks(RunConfig('retinamnist', 'long_tail', budget='tiny', seed=1, precision='fp32'), retina)
    assert plan.precision == 'fp32' and 'ProtocolCallback' in seen and 'DeviceFastPath' not in seen

def test_bf16_adds_the_fast_path_on_cpu(retina):
    plan, seen = _learner_callbacks(RunConfig('retinamnist', 'long_tail', budget='tiny', seed=1, precision='bf16'), retina)
    assert plan.precision == 'bf16' and 'DeviceFastPath' in seen
    assert seen.index('DeviceFastPath') > seen.index('ProtocolCallback')   # runs after the callbacks that edit the batch
    assert plan.model.stem[0].weight.is_contiguous(memory_format=torch.channels_last)

def test_auto_resolves_to_the_device(retina):
    from imbalance_study.core import resolve_precision
    plan = build_plan(RunConfig('retinamnist', 'long_tail', budget='tiny'), data=retina, device='cpu')
    assert plan.precision == plan.config.precision == resolve_precision('auto', 'cpu')
    assert RunConfig(precision='auto').key() == RunConfig(precision=resolve_precision('auto')).key()

def test_fp32_keys_are_the_keys_stored_before_precision_existed():
    "The committed 112-configuration grid (trained in fp32 before `precision` existed) resumes under fp32."
    import sqlite3
    from pathlib import Path
    db = Path(__file__).resolve().parent/'data'/'grid112_schema1.sqlite'   # the grid as first committed (schema 1)
    con = sqlite3.connect(f'file:{db}?mode=ro&immutable=1', uri=True)
    rows = con.execute("SELECT key, config FROM runs").fetchall()
    con.close()
    assert len(rows) == 112
    import json
    for key, cfg in rows:
        cfg = json.loads(cfg)
        assert 'precision' not in cfg
        assert RunConfig(**cfg, precision='fp32').key() == key
        assert RunConfig(**cfg, precision='bf16').key() != key

def test_ham_scores_in_bf16_under_the_fast_path(retina):
    "HAM's K scoring forwards run under the fast path's autocast (bf16 logits) when the run is bf16."
    from fastai.callback.core import Callback
    from imbalance_study.strategies.ham import HardAdversarialMining
    from imbalance_study.train import train_plan
    dtypes = []
    plan = build_plan(RunConfig('retinamnist', 'long_tail', augment='trivialaugment', ham=True, budget='tiny', seed=1,
                                precision='bf16'), data=retina, device='cpu')
    ham = next(c for c in plan.cbs if isinstance(c, HardAdversarialMining))
    h = plan.model.head.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    class Stop(Exception): pass
    class After(Callback):
        order = 99
        def after_batch(self): raise Stop("one step")
    plan.cbs.append(After())
    with pytest.raises(Stop): train_plan(plan, progress=False)
    h.remove()
    assert len(dtypes) == ham.K + 1 and set(dtypes) == {torch.bfloat16}   # K scoring forwards (CPU: one per variant) + the training forward

def test_ema_teacher_follows_the_student_in_bf16(retina):
    "The teacher's update (theta_t <- 0.99 theta_t + 0.01 theta) holds under the bf16 fast path: the channels-last conversion happens before the EMA callback takes its references to the student's tensors."
    from fastai.callback.core import Callback
    from imbalance_study.strategies.ema import EMATeacher
    from imbalance_study.train import train_plan
    plan = build_plan(RunConfig('retinamnist', 'long_tail', ema=True, budget='tiny', seed=1, precision='bf16'), data=retina, device='cpu')
    ema = next(c for c in plan.cbs if isinstance(c, EMATeacher))
    checked = []
    class Check(Callback):
        order = 30
        def before_step(self): self.prev = {k: v.clone() for k, v in ema.teacher.state_dict().items()}
        def after_step(self):
            if len(checked) >= 2: return
            s = self.learn.model.state_dict()
            for k, v in ema.teacher.state_dict().items():
                if v.is_floating_point(): assert torch.allclose(v, 0.99 * self.prev[k] + 0.01 * s[k], atol=1e-6), k
            checked.append(1)
    plan.cbs.append(Check())
    train_plan(plan, progress=False)
    assert len(checked) == 2
