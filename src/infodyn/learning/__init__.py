"""infodyn.learning: e-prop and BPTT on the network engine, losses, trainer, tasks.

- :func:`gradients` / :func:`evaluate`: e-prop (``"eprop"``), BPTT (``"bptt"``) and BPTT with the
  gradient through z stopped (``"bptt_stopgrad"``, where e-prop is exact).
- Losses (:mod:`infodyn.learning.losses`): :class:`MeanSquaredError`,
  :class:`SoftmaxCrossEntropy`, :class:`UnitRateTarget`, :class:`FiringRateRegularizer`,
  :class:`PopulationRateVariance`, :class:`PopulationRateDeviation`; combine with ``+``/``*``.
- Information objectives (:mod:`infodyn.learning.info_objectives`): :class:`InfoMaxBound`,
  :class:`TotalCorrelationPenalty`, :class:`InformationBottleneck`, loss terms like the above.
- Transfer-function adaptation: intrinsic plasticity and histogram matching for rate units
  (:mod:`infodyn.learning.transfer`), and the LIF threshold/gain rule that runs beside e-prop
  (:mod:`infodyn.learning.adaptation`).
- :class:`Trainer` (:mod:`infodyn.learning.trainer`) with its hooks
  (:mod:`infodyn.learning.hooks`: metrics, adaptation beside gradient descent, early stop) and
  the tasks of :mod:`infodyn.learning.tasks`.
- :mod:`infodyn.learning.trainer` (``Trainer``) and :mod:`infodyn.learning.tasks`.
- :func:`from_nest` (:mod:`infodyn.learning.nest`): NEST's e-prop models translated (network,
  loss, weights, optimiser), reproducing NEST's reference losses (``docs/conventions.md``).
"""

from infodyn.learning.adaptation import (
    LIFAdaptationConfig,
    adapt_lif,
    adapted_input,
    adapted_network,
    count_distribution_kl,
    init_lif_adaptation,
    lif_adaptation_update,
)
from infodyn.learning.gradients import (
    Evaluation,
    GradientExplosionError,
    evaluate,
    gradients,
    mask_gradients,
    random_feedback,
)
from infodyn.learning.hooks import (
    EarlyStoppingState,
    HookOutput,
    StepInfo,
    TrainHook,
    View,
    early_stopping,
    lif_adaptation_hook,
    metric_hook,
)
from infodyn.learning.info_objectives import (
    InfoMaxBound,
    InformationBottleneck,
    TotalCorrelationPenalty,
    decorrelation_objective,
    objective_learning_signals,
    stimulus_entropy_bits,
    window_target,
)
from infodyn.learning.losses import (
    CompositeLoss,
    FiringRateRegularizer,
    LossTerm,
    MeanSquaredError,
    PopulationRateDeviation,
    PopulationRateVariance,
    SoftmaxCrossEntropy,
    UnitRateTarget,
    as_loss,
)
from infodyn.learning.nest import NestEprop, NestOptimizer, from_nest
from infodyn.learning.registry import build_loss, config_kinds, register_loss_kind
from infodyn.learning.synapse_ops import trainable_arrays, with_trainable
from infodyn.learning.tasks import (
    EvidenceAccumulation,
    PatchTask,
    PatternGeneration,
    RateTask,
    StimulusTrials,
)
from infodyn.learning.trainer import Trainer, TrainOptions, TrainState
from infodyn.learning.transfer import (
    IPResult,
    TransferFit,
    infer_transfer_function,
    intrinsic_plasticity,
    ip_update,
    sigmoid_transfer,
)

__all__ = [
    "CompositeLoss",
    "EarlyStoppingState",
    "Evaluation",
    "EvidenceAccumulation",
    "FiringRateRegularizer",
    "GradientExplosionError",
    "HookOutput",
    "IPResult",
    "InfoMaxBound",
    "InformationBottleneck",
    "LIFAdaptationConfig",
    "LossTerm",
    "MeanSquaredError",
    "NestEprop",
    "NestOptimizer",
    "PatchTask",
    "PatternGeneration",
    "PopulationRateDeviation",
    "PopulationRateVariance",
    "RateTask",
    "SoftmaxCrossEntropy",
    "StepInfo",
    "StimulusTrials",
    "TotalCorrelationPenalty",
    "TrainHook",
    "TrainOptions",
    "TrainState",
    "Trainer",
    "TransferFit",
    "UnitRateTarget",
    "View",
    "adapt_lif",
    "adapted_input",
    "adapted_network",
    "as_loss",
    "build_loss",
    "config_kinds",
    "register_loss_kind",
    "count_distribution_kl",
    "decorrelation_objective",
    "early_stopping",
    "evaluate",
    "from_nest",
    "gradients",
    "infer_transfer_function",
    "init_lif_adaptation",
    "intrinsic_plasticity",
    "ip_update",
    "lif_adaptation_hook",
    "lif_adaptation_update",
    "mask_gradients",
    "metric_hook",
    "objective_learning_signals",
    "random_feedback",
    "sigmoid_transfer",
    "stimulus_entropy_bits",
    "trainable_arrays",
    "window_target",
    "with_trainable",
]
