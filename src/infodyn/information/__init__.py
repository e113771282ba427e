"""Multivariate information of spike words and other discrete data (``idn.information``).

Inputs are ``(samples, variables)`` arrays of non-negative integer symbols (a 1-D array is one
variable); every result is in bits. Rows are packed into integer words (64 binary units per
``uint64``) and counted by sorting, never through a dense ``2**n`` table.
"""

from infodyn.information.estimators import (
    Estimate,
    UndersampledWarning,
    conditional_entropy,
    entropy,
    entropy_from_counts,
)
from infodyn.information.measures import (
    co_information,
    conditional_mutual_information,
    dual_total_correlation,
    multivariate_summary,
    mutual_information,
    o_information,
    pairwise_mutual_information,
    s_information,
    total_correlation,
)
from infodyn.information.words import (
    EmpiricalDistribution,
    Words,
    encode,
    join,
    lagged,
    pack_words,
    spike_words,
    trial_view,
    word_counts,
)

__all__ = [
    "EmpiricalDistribution",
    "Estimate",
    "UndersampledWarning",
    "Words",
    "co_information",
    "conditional_entropy",
    "conditional_mutual_information",
    "dual_total_correlation",
    "encode",
    "entropy",
    "entropy_from_counts",
    "join",
    "lagged",
    "multivariate_summary",
    "mutual_information",
    "o_information",
    "pack_words",
    "pairwise_mutual_information",
    "s_information",
    "spike_words",
    "total_correlation",
    "trial_view",
    "word_counts",
]
