"Table 4: all 12 dataset x profile count vectors, nesting, and the errors of bad input."
import numpy as np, pytest, torch
from imbalance_study.data.profiles import PROFILE_NAMES, profile_indices, make_profile, profile_counts
from imbalance_study.data.core import load_dataset, write_fake_dataset

# Table 4 of the hierarchy paper, typed in again independently of the module (a typo in either shows up here).
TABLE4 = {
    'cifar10': ([1000] * 10, [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000],
                [10, 120, 230, 340, 450, 560, 670, 780, 890, 1000]),
    'retinamnist': ([486, 128, 206, 194, 66], [400, 100, 200, 150, 50], [400, 10, 200, 15, 5]),
    'organcmnist': ([1148, 619, 595, 600, 1088, 1170, 2986, 1002, 1022, 1173, 1572],
                    [700, 300, 100, 200, 600, 800, 1500, 400, 500, 900, 1000],
                    [700, 30, 10, 20, 60, 800, 1500, 40, 50, 900, 1000]),
    'pathmnist': ([9366, 9509, 10360, 10401, 8006, 12182, 7886, 9401, 12885],
                  [3000, 5000, 6000, 7000, 2000, 8000, 1000, 4000, 10000],
                  [300, 5000, 6000, 7000, 200, 8000, 100, 400, 10000]),
}
# Train images available per class before profiling (MedMNIST official train; CIFAR-10 after the 500/class val hold-out).
AVAILABLE = {'cifar10': [4500] * 10, 'retinamnist': TABLE4['retinamnist'][0],
             'organcmnist': TABLE4['organcmnist'][0], 'pathmnist': TABLE4['pathmnist'][0]}

@pytest.mark.parametrize('dataset', sorted(TABLE4))
@pytest.mark.parametrize('i,profile', list(enumerate(PROFILE_NAMES)))
def test_profile_counts_equal_table4(dataset, i, profile):
    labels = torch.from_numpy(np.random.default_rng(0).permutation(np.repeat(np.arange(len(AVAILABLE[dataset])), AVAILABLE[dataset])))
    idx = profile_indices(labels, profile_counts(dataset, profile), seed=0, dataset=dataset)
    assert torch.bincount(labels[idx], minlength=len(AVAILABLE[dataset])).tolist() == TABLE4[dataset][i]

@pytest.mark.parametrize('dataset', sorted(TABLE4))
@pytest.mark.parametrize('seed', [0, 3])
def test_profiles_nested(dataset, seed):
    labels = torch.from_numpy(np.random.default_rng(1).permutation(np.repeat(np.arange(len(AVAILABLE[dataset])), AVAILABLE[dataset])))
    full, lt, elt = (set(profile_indices(labels, profile_counts(dataset, p), seed).tolist()) for p in PROFILE_NAMES)
    assert elt <= lt <= full
    assert len(elt) < len(lt) < len(full) or dataset != 'cifar10'

def test_profile_through_loader(tmp_path):
    write_fake_dataset('retinamnist', tmp_path, train_counts=TABLE4['retinamnist'][0], val_counts=[1] * 5, test_counts=[1] * 5)
    ds = load_dataset('retinamnist', root=tmp_path)
    for i, p in enumerate(PROFILE_NAMES): assert make_profile(ds, p).counts() == TABLE4['retinamnist'][i]

def test_cifar10_profiles_disjoint_from_val(tmp_path):
    write_fake_dataset('cifar10', tmp_path, train_counts=[1600] * 10, test_counts=[2] * 10)
    ds = load_dataset('cifar10', root=tmp_path)
    full = make_profile(ds, 'full')
    assert full.counts() == [1000] * 10 and ds.counts('val') == [500] * 10
    rows = lambda s: {bytes(r.numpy()) for r in s.x.flatten(1)}
    assert not rows(full.train) & rows(ds.val)

def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="Unknown dataset 'imagenet'"): load_dataset('imagenet', root=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"retinamnist\.npz.*IMBALANCE_STUDY_DATA"): load_dataset('retinamnist', root=tmp_path)
    write_fake_dataset('retinamnist', tmp_path)
    ds = load_dataset('retinamnist', root=tmp_path)
    with pytest.raises(ValueError, match="valid profiles"): make_profile(ds, 'longtail')
    with pytest.raises(ValueError, match="class 0 needs 400 train images but the split holds 30"): make_profile(ds, 'long_tail')
    np.savez(tmp_path/'breastmnist.npz', train_images=np.zeros((3, 28, 28, 3), np.uint8), train_labels=np.zeros((3, 1), np.uint8),
             val_images=np.zeros((3, 28, 28), np.uint8), val_labels=np.zeros((3, 1), np.uint8),
             test_images=np.zeros((3, 28, 28), np.uint8), test_labels=np.zeros((3, 1), np.uint8))
    with pytest.raises(ValueError, match=r"expected uint8 of shape \(N, 28, 28\), got shape \(3, 28, 28, 3\)"):
        load_dataset('breastmnist', root=tmp_path)
    np.savez(tmp_path/'pneumoniamnist.npz', train_images=np.zeros((3, 28, 28), np.uint8), train_labels=np.array([[0], [1], [2]], np.uint8),
             val_images=np.zeros((3, 28, 28), np.uint8), val_labels=np.zeros((3, 1), np.uint8),
             test_images=np.zeros((3, 28, 28), np.uint8), test_labels=np.zeros((3, 1), np.uint8))
    with pytest.raises(ValueError, match=r"expected values in \[0, 1\], got range \[0, 2\]"):
        load_dataset('pneumoniamnist', root=tmp_path)
