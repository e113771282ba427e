"""infodyn.energy: an energy function over phase space (Ising / Hopfield model).

``E(x) = -1/2 x^T J x + theta^T x`` on binary words x in {0,1}^n, read four ways (Hopfield 1982,
PNAS 79:2554; Schneidman et al. 2006, Nature 440:1007):
as a dynamical system (descent to memories, ``dynamics``), a generative model (Gibbs/Metropolis,
``sampling``), a code with a distance (``codes``) and a density with a partition function
(``partition``, ``density``). Fitting by minimum probability flow, pseudolikelihood or exact
maximum likelihood (``fit``).

    model = idn.energy.fit(X, method="mpf")      # X in {0,1}^(M, n); "pl", "ml"
    model.energy(X); model.descend(X); model.fixed_points(); model.sample(1000, seed=0)
    model.log_partition(); model.log_likelihood(X_test)
    idn.energy.minimum_distance(model.fixed_points())
    idn.energy.fit(X, method="mpf", model="k_pairwise")   # + a potential V(K), K = sum(x)
    idn.energy.refine_potential(model, X, method="mc")   # ML refit of V(K), J and theta fixed
    idn.energy.heat_capacity(model, np.geomspace(0.5, 3, 30), method="mcmc", seed=0)  # C(T)/n
"""

from infodyn.energy._checks import UnboundedCouplingWarning
from infodyn.energy.codes import (
    capacity_curve,
    clique_code,
    clique_network,
    correction_radius,
    corrupt,
    denoising_curve,
    hamming_distances,
    minimum_distance,
    outer_product_rule,
    random_patterns,
    recovery,
    storage_fraction,
    store,
)
from infodyn.energy.denoise import denoising_rows, posterior_descent
from infodyn.energy.density import (
    empirical_log_likelihood,
    expected_kl,
    generalisation_curve,
    heldout_report,
    n_parameters,
    smoothed_histogram_bits,
)
from infodyn.energy.dynamics import (
    SyncResult,
    descend,
    exhaustive_fixed_points,
    fixed_points,
    flip_energies,
    glauber,
    is_fixed_point,
    synchronous,
)
from infodyn.energy.fit import fit, unique_patterns
from infodyn.energy.kpairwise import KPairwiseModel
from infodyn.energy.kpotential_ml import refine_potential
from infodyn.energy.memories import (
    MarkovChain,
    basin_profile,
    markov_chain,
    memory_labels,
    memory_triggered_average,
)
from infodyn.energy.model import IsingModel
from infodyn.energy.nulls import (
    dichotomised_gaussian,
    independent_null,
    latent_null,
    null_words,
    shuffle_null,
)
from infodyn.energy.partition import (
    AISModeWarning,
    AISResult,
    ais_log_partition,
    all_states,
    exact_log_partition,
)
from infodyn.energy.sampling import (
    compare_statistics,
    pattern_rates,
    sample,
    sample_statistics,
)
from infodyn.energy.thermo import Entropy, HeatCapacity, entropy, exact_entropy, heat_capacity
from infodyn.energy.words import Words, binary_words
from infodyn.energy.zipf import ZipfFit, rank_frequency, zipf_slope

__all__ = [
    "AISModeWarning",
    "AISResult",
    "Entropy",
    "HeatCapacity",
    "IsingModel",
    "KPairwiseModel",
    "MarkovChain",
    "SyncResult",
    "UnboundedCouplingWarning",
    "Words",
    "ZipfFit",
    "ais_log_partition",
    "all_states",
    "basin_profile",
    "capacity_curve",
    "binary_words",
    "clique_code",
    "clique_network",
    "compare_statistics",
    "correction_radius",
    "corrupt",
    "denoising_curve",
    "denoising_rows",
    "descend",
    "dichotomised_gaussian",
    "empirical_log_likelihood",
    "entropy",
    "exact_entropy",
    "exact_log_partition",
    "exhaustive_fixed_points",
    "expected_kl",
    "fit",
    "fixed_points",
    "flip_energies",
    "generalisation_curve",
    "glauber",
    "independent_null",
    "hamming_distances",
    "heat_capacity",
    "heldout_report",
    "is_fixed_point",
    "latent_null",
    "markov_chain",
    "memory_labels",
    "memory_triggered_average",
    "minimum_distance",
    "n_parameters",
    "null_words",
    "outer_product_rule",
    "pattern_rates",
    "posterior_descent",
    "random_patterns",
    "rank_frequency",
    "recovery",
    "refine_potential",
    "sample",
    "sample_statistics",
    "smoothed_histogram_bits",
    "storage_fraction",
    "shuffle_null",
    "store",
    "synchronous",
    "unique_patterns",
    "zipf_slope",
]
