__version__ = "0.1.0"
import os as _os, sys as _sys
# The `imbalance-study` command answers --help, --version and argument errors before torch loads: in its process the
# imports below wait until a command runs (`cli.load_package` sets `_FULL` and reloads this module).
_DEFER = (not globals().get('_FULL') and bool(_sys.argv) and _os.path.basename(_sys.argv[0]) == 'imbalance-study')
if not _DEFER:
    # The public API (SPEC section 12). Importing the package also imports every strategy module, which registers
    # its strategies with `imbalance_study.train.register_strategy` so that `RunConfig` can switch them on by name.
    from .core import set_seed, default_device, data_root, Budget, BUDGETS, get_budget
    from .data.core import load_dataset, dataset_info, register_dataset, fetch_dataset, ImageDataset, Split
    from .data.profiles import PROFILES, PROFILE_NAMES, make_profile, profile_counts, class_groups
    from .models import resnet18_small, SmallResNet, create_model
    from .metrics import classification_metrics, grading_metrics, binary_score_metrics
    from .losses import (inverse_frequency_weights, class_balanced_weights, focal_loss, vs_loss, ldam_loss,
                         balanced_softmax_loss, logit_adjusted_loss, soft_cross_entropy, WeightedCrossEntropy)
    from .data.samplers import class_sampling_probs, ClassSampler, BalancedBatchSampler, ScoreSampler
    from .train import (RunConfig, RunResult, run, build_plan, train_plan, STRATEGIES, register_strategy, FAMILIES, Family,
                        register_family, temporary_family, temporary_strategy)
    from .strategies.augment import BatchAugment, AugmentCallback, augment_batch
    from .strategies.hem import OHEMCallback
    from .strategies.ham import HardAdversarialMining
    from .strategies.balance import apply_batch_balance, apply_loss_reweight
    from .strategies.ema import EMATeacher
    from .study.grid import grid_configs
    from .study.store import ResultsStore, load_results
    from .study.executors import run_grid, LocalExecutor, RayExecutor
    from .study.analysis import nps, results_frame
    from .study.report import render_report
    from .study.uncertainty import (bootstrap_f1, paired_bootstrap, arm_difference, compare_arms, nps_intervals, factorial_effects,
                              factorial_interactions, matched_pairs, attach_predictions, run_labels, format_effects, forest_plot)
    # The paper modules (each registers its methods for `RunConfig(method=...)`).
    from .methods.balanced_mixup import BalancedMixUp
    from .methods.lct import LinearDistribution, LCTModel, FiLM, make_binary_task
    from .methods.aduni import AdUniModel, aduc_loss, AlphaSchedule
    from .methods.diffusion import ClassDiffusion
    from .methods.rlcas import RLCAS
    # The studies (`imbalance-study study`): the machinery, then the five declarations, which register themselves.
    from .study.core import Study, Arm, STUDIES, get_study, run_study, study_frame, study_tables, render_study
    from .study import papers, unified
    from .study.recommend import DataTraits, dataset_traits, recommend, try_candidates

# The public names (what `from imbalance_study import *` gives): everything imported above but the modules themselves.
__all__ = [] if _DEFER else sorted(k for k, v in globals().items()
                                   if not k.startswith('_') and not type(v).__name__ == 'module')
