"""Every strategy in a stock fastai `Learner` on stock fastai DataLoaders (issue 16, item 1): a generated image
folder, `ImageDataLoaders.from_folder` / a `DataBlock` with fastai's `Normalize`, one short `fit` per strategy;
augmentation on normalised input is correct (undone and redone) or a clear error; the README snippet runs."""
import re
from pathlib import Path
import pytest, torch
from fastai.learner import Learner
from fastai.metrics import accuracy
from fastai.data.transforms import Normalize, Transform
from fastai.torch_core import TensorImage
from fastai.vision.data import ImageDataLoaders
from fastai.vision.augment import Resize
from fastai.vision.core import imagenet_stats
from fastai.callback.core import Callback
from imbalance_study.data.fastai_dls import write_image_folder
from imbalance_study.models import resnet18_small
from imbalance_study.data.samplers import SamplerDL, sampled_dl, dl_labels, BalancedBatchSampler, ScoreSampler
from imbalance_study.strategies.augment import AugmentCallback, BatchAugment, batch_normalize, in_pixel_space
from imbalance_study.strategies.hem import OHEMCallback, init_scores
from imbalance_study.strategies.ham import HardAdversarialMining
from imbalance_study.strategies.ema import EMATeacher
from imbalance_study.methods.balanced_mixup import BalancedMixUp
from imbalance_study.losses import WeightedCrossEntropy, inverse_frequency_weights
from imbalance_study.methods.lct import lct_parts, lambda_grid, LCTModel, LCTCallback, LinearDistribution
from imbalance_study.methods.aduni import AdUniModel, AduCLoss, AdUni, AlphaSchedule

COUNTS = {'normal': 30, 'mild': 12, 'severe': 6}   # 5 : 2 : 1; 36 training images with valid_pct=0.25

@pytest.fixture(scope='module')
def folder(tmp_path_factory): return write_image_folder(tmp_path_factory.mktemp('imgs'), COUNTS)

def make_dls(folder, bs=8, **kw):
    return ImageDataLoaders.from_folder(folder, valid_pct=0.25, seed=0, item_tfms=Resize(28), bs=bs, num_workers=0,
                                        batch_tfms=Normalize.from_stats(*imagenet_stats, cuda=False), device='cpu', **kw)

class Seen(Callback):
    "Record every training batch as the model gets it (after every strategy callback)."
    order = 99
    def before_fit(self): self.xs, self.ys = [], []
    def before_batch(self):
        if self.training: self.xs.append(self.learn.xb[0].detach().clone()); self.ys.append(self.learn.yb[0].cpu())

def fit_one(dls, cbs=(), **kw):
    learn = Learner(dls, resnet18_small(dls.c, 3, width=8), metrics=accuracy, cbs=list(cbs) + [seen := Seen()], **kw)
    with learn.no_logging(): learn.fit(1)
    assert len(learn.recorder.values) == 1 and len(seen.xs) == len(dls.train) > 0
    return learn, seen

def test_batches_are_normalised(folder):
    x, _ = make_dls(folder).one_batch()
    assert x.min() < -0.5 and batch_normalize(make_dls(folder).train) is not None

@pytest.mark.parametrize('tier', ['classical', 'trivialaugment'])
def test_augment(folder, tier):
    learn, seen = fit_one(make_dls(folder), [AugmentCallback(tier)])
    assert all(x.min() < -0.5 for x in seen.xs)            # still normalised: not clamped to [0, 1]

def test_ham(folder):
    learn, seen = fit_one(make_dls(folder), [HardAdversarialMining('trivialaugment', K=3)])
    assert all(x.min() < -0.5 for x in seen.xs)

def test_ohem(folder):
    dls = make_dls(folder)
    scores = init_scores(len(dls.train_ds), dls.c); before = scores.clone()
    dls.loaders[0] = sampled_dl(dls.train, ScoreSampler(scores, torch.Generator().manual_seed(0)))
    fit_one(dls, [OHEMCallback(scores)])
    changed = (scores != before).nonzero().flatten()
    assert len(changed) > 0 and (scores != before).sum() <= len(dls.train) * 8

def test_ohem_refuses_a_plain_dataloader(folder):
    dls = make_dls(folder)
    learn = Learner(dls, resnet18_small(dls.c, 3, width=8), cbs=OHEMCallback(init_scores(len(dls.train_ds), dls.c)))
    with learn.no_logging(), pytest.raises(ValueError, match="needs the dataset indices"): learn.fit(1)

def test_batch_balance_with_ohem_and_reweighting(folder):
    dls = make_dls(folder, bs=9)
    labels = dl_labels(dls.train)
    assert labels.tolist() == [int(y) for _, y in dls.train_ds]
    scores = init_scores(len(labels), dls.c)
    dls.loaders[0] = sampled_dl(dls.train, BalancedBatchSampler(labels, torch.Generator().manual_seed(0), scores=scores))
    w = inverse_frequency_weights(torch.bincount(labels, minlength=3).tolist())
    _, seen = fit_one(dls, [OHEMCallback(scores)], loss_func=WeightedCrossEntropy(w))
    assert all(torch.bincount(y, minlength=3).tolist() == [3, 3, 3] for y in seen.ys)

def test_sampler_dl_last_idx_with_workers(folder):
    "With worker processes too, `last_idx` names the images of the batch just yielded."
    dls = ImageDataLoaders.from_folder(folder, valid_pct=0.25, seed=0, item_tfms=Resize(28), bs=6, num_workers=2, device='cpu')
    labels = dl_labels(dls.train)
    dl = sampled_dl(dls.train, BalancedBatchSampler(labels, torch.Generator().manual_seed(1)))
    n = 0
    for _, y in dl:
        assert y.tolist() == labels[dl.last_idx].tolist(); n += 1
    assert n == len(dl) == 6

def test_ema_teacher_is_evaluated_and_selectable(folder):
    dls = make_dls(folder)
    learn, _ = fit_one(dls, [EMATeacher(0.9, select=True, monitor='accuracy')])
    names = list(learn.recorder.metric_names[1:-1])
    assert names == ['train_loss', 'valid_loss', 'accuracy', 'teacher_loss', 'teacher_accuracy']
    last = dict(zip(names, learn.recorder.values[-1]))
    with learn.ema.use_teacher(): t_loss, t_acc = learn.validate()
    assert t_loss == pytest.approx(last['teacher_loss'], rel=1e-5) and t_acc == pytest.approx(last['teacher_accuracy'])
    assert learn.ema.scores == [{'student': pytest.approx(last['accuracy']), 'teacher': pytest.approx(last['teacher_accuracy'])}]
    assert learn.ema.selected == ('teacher' if last['teacher_accuracy'] > last['accuracy'] else 'student')
    assert [m.name for m in learn.metrics] == ['accuracy']
    ema = EMATeacher(0.5, select=True)                        # selection on valid_loss (lower is better)
    learn, _ = fit_one(make_dls(folder), [ema])
    s, t = ema.scores[-1]['student'], ema.scores[-1]['teacher']
    assert ema.selected == ('teacher' if t < s else 'student')
    if ema.selected == 'teacher':                             # the learner keeps the teacher's weights
        assert all(torch.equal(a, b) for a, b in zip(learn.model.state_dict().values(), ema.teacher.state_dict().values()))

def test_balanced_mixup(folder):
    dls = make_dls(folder)
    bm = BalancedMixUp(0.3)
    learn = Learner(dls, resnet18_small(dls.c, 3, width=8), metrics=accuracy, cbs=bm)
    lf0 = learn.loss_func
    ys = []
    class Rec(Callback):
        order = 60
        def before_batch(self):
            if self.training: ys.append(bm.y_c.cpu()); assert bm.target.shape == (len(self.learn.yb[0]), 3)
    with learn.no_logging(): learn.fit(4, cbs=Rec())
    assert isinstance(bm.dl_c, SamplerDL) and learn.loss_func is lf0
    freq = torch.bincount(torch.cat(ys), minlength=3).float()
    assert (freq / freq.sum() - 1 / 3).abs().max() < 0.15     # class-balanced, though the folder is 5 : 2 : 1

def test_augmentation_round_trip_keeps_the_range(folder):
    dls = make_dls(folder)
    norm = batch_normalize(dls.train)
    x, _ = dls.one_batch()
    assert torch.allclose(in_pixel_space(lambda p: p, x, norm), x, atol=1e-5)
    aug = BatchAugment('classical', jitter=0.)
    g = lambda: torch.Generator().manual_seed(3)
    out = in_pixel_space(aug, x, norm, g())
    assert torch.allclose(out, norm(TensorImage(aug(norm.decode(x).as_subclass(torch.Tensor).clamp(0, 1), g()))), atol=1e-4)
    assert out.min() < -0.5 and isinstance(out, TensorImage)

class _Shift(Transform):
    order = 99
    def encodes(self, x:TensorImage): return x * 4 - 2

@pytest.mark.parametrize('cb', [lambda: AugmentCallback('classical'), lambda: HardAdversarialMining('classical', K=2)])
def test_out_of_range_without_normalize_is_an_error(folder, cb):
    dls = ImageDataLoaders.from_folder(folder, valid_pct=0.25, seed=0, item_tfms=Resize(28), bs=8, num_workers=0,
                                       batch_tfms=_Shift(), device='cpu')
    learn = Learner(dls, resnet18_small(dls.c, 3, width=8), cbs=cb())
    with learn.no_logging(), pytest.raises(ValueError, match=r"augmentation works on images in \[0, 1\]"): learn.fit(1)

BINARY = {'benign': 40, 'malignant': 10}

@pytest.fixture(scope='module')
def binary_folder(tmp_path_factory): return write_image_folder(tmp_path_factory.mktemp('bin'), BINARY, seed=2)

class FiLMInput(Callback):
    "Record the (normalised) lambda the FiLM block of an `LCTModel` receives, per forward, with the mode it ran in."
    order = 99
    def before_fit(self):
        self.seen = []
        self.hook = self.learn.model.film.register_forward_pre_hook(lambda m, a: self.seen.append((m.training, a[1].detach().clone())))
    def after_fit(self): self.hook.remove()

@pytest.mark.parametrize('arch', ['small', 'timm'])
def test_lct(binary_folder, arch):
    "LCT: a lambda drawn per batch reaches the loss and FiLM; validation and predictions use eval_lambda or the chosen one."
    dls = make_dls(binary_folder)
    counts = torch.bincount(dl_labels(dls.train), minlength=2).tolist()
    import timm
    net = resnet18_small(2, 3, width=8) if arch == 'small' else timm.create_model('resnet18', num_classes=2, pretrained=False)
    model, loss_func, lct = lct_parts(net, counts, 'vs', generator=torch.Generator().manual_seed(0))
    lct.keep_history = True
    losses = []
    class LossLam(Callback):
        order = 99
        def after_loss(self):
            if self.training: losses.append(self.learn.loss_func.current_lambda.clone())
    learn = Learner(dls, model, loss_func=loss_func, cbs=[lct, film := FiLMInput(), LossLam()])
    with learn.no_logging(): learn.fit(2)
    train = torch.stack([l for t, l in film.seen if t]); valid = torch.stack([l for t, l in film.seen if not t])
    drawn = torch.stack(lct.history)
    assert len(drawn) == 2 * len(dls.train) and len({tuple(l.tolist()) for l in drawn}) == len(drawn)   # a new lambda per batch
    assert torch.equal(torch.stack(losses), drawn)                                                   # the loss gets it
    assert torch.allclose(train, model.normalize(drawn))                                            # and so does FiLM
    assert torch.allclose(valid, model.normalize(lct.eval_lambda).expand_as(valid))                  # validation: eval_lambda
    lam = torch.tensor([0.3, 4.0], dtype=torch.float64)
    with learn.lct.use_lambda(lam): preds = learn.get_preds()[0]
    model.eval()
    with torch.no_grad(): by_hand = torch.cat([torch.softmax(model(xb, lam), 1) for xb, _ in dls.valid])
    assert torch.allclose(preds, by_hand, atol=1e-5)                                                # predictions at the chosen lambda
    assert not torch.allclose(preds, learn.get_preds()[0])                                          # eval_lambda again after the block
    rows = learn.lct.grid_preds(lambda_grid('vs'))
    assert len(rows) == 20 and torch.allclose(rows[-1][1], preds, atol=1e-6) and torch.equal(rows[-1][0], lam)

def test_lct_fastai_model_and_errors(binary_folder):
    from fastai.vision.models.xresnet import xresnet18
    dls = make_dls(binary_folder)
    model, loss_func, lct = lct_parts(xresnet18(n_out=2), [30, 8], 'focal', on='logits')
    learn = Learner(dls, model, loss_func=loss_func, cbs=lct)
    with learn.no_logging(): learn.fit(1)
    assert len(learn.recorder.values) == 1 and model.film.sigma[-1].out_features == 2
    plain = Learner(dls, resnet18_small(2, 3, width=8), cbs=LCTCallback([LinearDistribution(0, 1, 1)] * 2))
    with plain.no_logging(), pytest.raises(ValueError, match="loss_func=ConditionalLoss"): plain.fit(1)
    from torchvision.models import resnet18
    with pytest.raises(ValueError, match=r"FeatureModel\(body, head\)"): lct_parts(resnet18(), [30, 8])
    with pytest.raises(ValueError, match="official_sampler=True"): lct_parts(resnet18_small(2), [30, 8], 'focal', [(0.25, 0.75, 2), (1, 3, 2)])
    cb = lct_parts(resnet18_small(2), [30, 8], 'focal', [(0.25, 0.75, 2), (1, 3, 2)], official_sampler=True)[2]
    assert cb.dists[1].a == pytest.approx(7 / 3) and cb.dists[1].interval == (1.0, 3.0)

class Views(Callback):
    order = 99
    def before_fit(self): self.xs, self.ns = [], []
    def before_batch(self):
        if self.training: self.xs.append(self.learn.xb[0].detach().clone()); self.ns.append((len(self.learn.xb[0]), len(self.learn.yb[0]), self.learn.xb[1]))

def test_aduni(folder):
    "AdUni: 2N views in pixel space, alpha on its schedule over the fit, cross-entropy for fastai's validation."
    dls = make_dls(folder)
    learn = Learner(dls, AdUniModel(resnet18_small(3, 3, width=8), proj_dim=16), loss_func=AduCLoss(), metrics=accuracy,
                    cbs=[AdUni(), views := Views()])
    with learn.no_logging(): learn.fit(3)
    T = 3 * len(dls.train) * 8
    hist = learn.aduni.history
    assert [t for t, _ in hist] == list(range(0, T, 8))
    assert [a for _, a in hist] == [AlphaSchedule('cosine', T)(t) for t, _ in hist]                # the single cosine over the fit
    assert hist[0][1] == 1.0 and hist[-1][1] < 0.05 and all(a > b for (_, a), (_, b) in zip(hist, hist[1:]))
    assert set(views.ns) == {(16, 8, True)}
    x, black = torch.cat(views.xs), -torch.tensor(imagenet_stats[0]) / torch.tensor(imagenet_stats[1])
    assert all((x[:, c] - black[c]).abs().lt(1e-4).any() for c in range(3)) and not (x == 0).any()  # black padding, pixel space
    assert x.min() < -0.5 and isinstance(learn.loss_func, AduCLoss)
    vloss, acc = learn.validate()
    model = learn.model.eval()
    with torch.no_grad(): logits, ys = (torch.cat(v).as_subclass(torch.Tensor) for v in zip(*[(model(xb), yb) for xb, yb in dls.valid]))
    assert vloss == pytest.approx(torch.nn.functional.cross_entropy(logits, ys).item(), rel=1e-4)

def test_aduni_timm_compound_and_errors(folder):
    import timm
    dls = make_dls(folder)
    learn = Learner(dls, AdUniModel(timm.create_model('resnet18', num_classes=3, pretrained=False)), loss_func=AduCLoss(),
                    cbs=AdUni('compound'))
    with learn.no_logging(): learn.fit(2)
    n, au = len(dls.train), learn.aduni
    assert [a for _, a in au.history] == [au.schedule.per_epoch[i // n] for i in range(2 * n)] and au.history[n][1] < 1.0
    for lrn, msg in ((Learner(dls, resnet18_small(3, 3, width=8), loss_func=AduCLoss(), cbs=AdUni()), r'AdUniModel\(model\)'),
                     (Learner(dls, AdUniModel(resnet18_small(3, 3, width=8)), cbs=AdUni()), r'loss_func=AduCLoss\(\)')):
        with lrn.no_logging(), pytest.raises(ValueError, match=msg): lrn.fit(1)
    with pytest.raises(ValueError, match='Unknown alpha schedule'): AdUni('linear')

def test_readme_snippets(folder, capsys):
    "Every python block of the README's section, run in order in one namespace, on the generated folder and one epoch."
    readme = (Path(__file__).resolve().parents[1]/'README.md').read_text()
    section = readme.split('## Use a strategy in your own fastai code', 1)[1].split('\n## ', 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    ns, subs = {}, ((("Path('my_images')"), f"Path({str(folder)!r})"), ('fit_one_cycle(10,', 'fit_one_cycle(1,'))
    assert subs[0][0] in blocks[0] and all(subs[1][0] in b for b in blocks)
    for i, code in enumerate(blocks):
        for old, new in subs: code = code.replace(old, new)
        exec(compile(code, f'README.md block {i + 1}', 'exec'), ns)
    learn = ns['learn']
    assert learn.ema.selected in ('student', 'teacher') and len(learn.recorder.values) == 1
    assert 'teacher_accuracy' in learn.recorder.metric_names
    lct_learn, aduni_learn = ns['lct_learn'], ns['aduni_learn']
    assert isinstance(lct_learn.model, LCTModel) and len(ns['grid']) == 20 and len(lct_learn.recorder.values) == 1
    assert isinstance(aduni_learn.model, AdUniModel) and aduni_learn.aduni.history[0][1] == 1.0
    assert isinstance(aduni_learn.loss_func, AduCLoss) and len(aduni_learn.recorder.values) == 1
