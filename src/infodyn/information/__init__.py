"""Multivariate information of spike words and other discrete data (``idn.information``).

Inputs are ``(samples, variables)`` arrays of non-negative integer symbols (a 1-D array is one
variable); every result is in bits unless ``base=`` (every measure takes it; ``math.e`` gives nats)
names another log base. Rows are packed into integer words (64 binary units per
``uint64``) and counted by sorting, never through a dense ``2**n`` table.
"""

from infodyn.information.channel import (
    ChannelCapacity,
    binary_erasure_channel,
    binary_symmetric_channel,
    channel_capacity,
)
from infodyn.information.estimators import (
    Estimate,
    UndersampledWarning,
    conditional_entropy,
    entropy,
    entropy_from_counts,
)
from infodyn.information.gaussian import (
    copula_normalize,
    gaussian_entropy,
    gaussian_mutual_information,
    gaussian_total_correlation,
)
from infodyn.information.lattice import (
    LatticePID,
    conditional_total_correlation,
    pid_lattice,
    pid_lattice_from_table,
)
from infodyn.information.local import (
    block_entropy,
    excess_entropy,
    local_active_information_storage,
    local_transfer_entropy,
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
from infodyn.information.pid import PIDAccuracyWarning, PIDResult, pid, pid_from_table
from infodyn.information.responses import (
    response_gaussian_tc,
    response_information,
    response_words,
)
from infodyn.information.significance import (
    PermutationTest,
    mi_permutation_test,
    shuffle_corrected_mi,
)
from infodyn.information.temporal import (
    active_information_storage,
    entropy_rate,
    transfer_entropy,
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
    "response_gaussian_tc",
    "response_information",
    "response_words",
    "ChannelCapacity",
    "EmpiricalDistribution",
    "Estimate",
    "LatticePID",
    "PIDResult",
    "PermutationTest",
    "UndersampledWarning",
    "PIDAccuracyWarning",
    "Words",
    "active_information_storage",
    "binary_erasure_channel",
    "block_entropy",
    "binary_symmetric_channel",
    "channel_capacity",
    "co_information",
    "conditional_entropy",
    "conditional_mutual_information",
    "conditional_total_correlation",
    "copula_normalize",
    "dual_total_correlation",
    "encode",
    "entropy",
    "entropy_from_counts",
    "entropy_rate",
    "excess_entropy",
    "gaussian_entropy",
    "gaussian_mutual_information",
    "gaussian_total_correlation",
    "join",
    "lagged",
    "local_active_information_storage",
    "local_transfer_entropy",
    "mi_permutation_test",
    "multivariate_summary",
    "mutual_information",
    "o_information",
    "pack_words",
    "pairwise_mutual_information",
    "pid",
    "pid_from_table",
    "pid_lattice",
    "pid_lattice_from_table",
    "s_information",
    "shuffle_corrected_mi",
    "spike_words",
    "total_correlation",
    "transfer_entropy",
    "trial_view",
    "word_counts",
]
