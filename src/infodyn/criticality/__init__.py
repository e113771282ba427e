"""infodyn.criticality: branching estimators that survive subsampling, avalanches, power laws.

Population activity (:func:`population_activity`), the naive and multistep-regression branching
estimators (:func:`branching_ratio`), reference processes (:func:`simulate_branching_process`,
:func:`galton_watson_avalanches`), avalanches (:func:`avalanches`), discrete and continuous
power-law fits with model comparison (:func:`fit_power_law`), the crackling-noise relation, the
Fano factor and the global-rate variance (Seitz 2021). See ``docs/criticality.md``; the
estimators follow Wilting & Priesemann 2018 (Nat. Commun. 9:2325) and Clauset, Shalizi & Newman
2009 (SIAM Rev. 51:661).
"""

from __future__ import annotations

from infodyn.criticality._common import CriticalityWarning
from infodyn.criticality.activity import (
    PopulationActivity,
    StepCounts,
    fano_factor,
    global_rate_variance,
    mean_interevent_interval,
    population_activity,
    step_counts,
)
from infodyn.criticality.avalanches import (
    Avalanches,
    CracklingResult,
    avalanches,
    crackling_relation,
    fit_mean_size_by_duration,
)
from infodyn.criticality.branching import (
    branching_ratio,
    naive_subsampling_bias,
    regression_slopes,
)
from infodyn.criticality.branching_result import BranchingResult, ExpFit
from infodyn.criticality.powerlaw import (
    Comparison,
    PowerLawFit,
    fit_power_law,
    sample_power_law,
)
from infodyn.criticality.processes import (
    borel_pmf,
    galton_watson_avalanches,
    simulate_branching_process,
)

__all__ = [
    "Avalanches",
    "BranchingResult",
    "Comparison",
    "CracklingResult",
    "CriticalityWarning",
    "ExpFit",
    "PopulationActivity",
    "PowerLawFit",
    "StepCounts",
    "avalanches",
    "borel_pmf",
    "branching_ratio",
    "crackling_relation",
    "fano_factor",
    "fit_mean_size_by_duration",
    "fit_power_law",
    "galton_watson_avalanches",
    "global_rate_variance",
    "mean_interevent_interval",
    "naive_subsampling_bias",
    "population_activity",
    "regression_slopes",
    "sample_power_law",
    "simulate_branching_process",
    "step_counts",
]
