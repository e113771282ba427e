"""infodyn.learning: e-prop and BPTT on the network engine, losses, trainer, tasks.

- :func:`gradients` / :func:`evaluate`: e-prop (``"eprop"``), BPTT (``"bptt"``) and BPTT with the
  gradient through z stopped (``"bptt_stopgrad"``, where e-prop is exact).
- Losses (:mod:`infodyn.learning.losses`): :class:`MeanSquaredError`,
  :class:`SoftmaxCrossEntropy`, :class:`UnitRateTarget`, :class:`FiringRateRegularizer`,
  :class:`PopulationRateVariance`, :class:`PopulationRateDeviation`; combine with ``+``/``*``.
"""

from infodyn.learning.gradients import (
    Evaluation,
    GradientExplosionError,
    evaluate,
    gradients,
    mask_gradients,
    random_feedback,
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
    build_loss,
)

__all__ = [
    "CompositeLoss",
    "Evaluation",
    "FiringRateRegularizer",
    "GradientExplosionError",
    "LossTerm",
    "MeanSquaredError",
    "PopulationRateDeviation",
    "PopulationRateVariance",
    "SoftmaxCrossEntropy",
    "UnitRateTarget",
    "as_loss",
    "build_loss",
    "evaluate",
    "gradients",
    "mask_gradients",
    "random_feedback",
]
