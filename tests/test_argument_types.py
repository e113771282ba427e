"""Arguments of the wrong type across the public API are one InputError naming them.

A choice (``method``, ``engine``, ``precision``, ``order``, ...) given an array was NumPy's
"truth value of an array is ambiguous" (``x in ("a", "b")`` compares elementwise); a ragged list
where an array or a count is meant was NumPy's "inhomogeneous shape"; ``None``, text or a huge
int where a number, a table or a network is meant were raw TypeErrors, AttributeErrors or
OverflowErrors from deep inside. Found by a type-confusion fuzz of the public API; each case
here failed with such a raw error before its check."""

import tempfile
from pathlib import Path

import numpy as np
import pytest

import infodyn.criticality as C
import infodyn.data as D
import infodyn.energy as E
import infodyn.information as I
import infodyn.learning as L
import infodyn.network as N
from infodyn.errors import InputError

ARRAY = np.array([])
RAGGED = [[1, 2], [3]]
R = np.random.default_rng(0)
X = (R.random((60, 5)) < 0.4).astype(np.uint8)


def _ising():
    J = np.triu(R.normal(0, 0.5, (5, 5)), 1)
    return E.IsingModel(J + J.T, R.normal(0, 0.5, 5))


def _net():
    return N.LIF(n_in=3, n_rec=8, n_out=1)


def _simulate(**kw):
    net = _net()
    x = (R.random((20, 3)) < 0.3).astype(float)
    return N.simulate(net, net.init(0), x, **kw)


def _gradients(**kw):
    net = _net()
    x = (R.random((2, 20, 3)) < 0.3).astype(float)
    args = {"net": net, "params": net.init(0), "x": x, "target": np.zeros((2, 20, 1))}
    return L.gradients(**{**args, "loss": "mse", **kw})


CHOICES = {  # (call with the bad value, words of the message)
    "LIF.init precision": (lambda v: _net().init(0, precision=v), "precision must be"),
    "simulate engine": (lambda v: _simulate(engine=v), "engine must be one of"),
    "simulate_spikes engine": (
        lambda v: N.simulate_spikes(_net(), _net().init(0), np.zeros((20, 3)), engine=v),
        "must be one of 'event', 'jax'",
    ),
    "gradients method": (lambda v: _gradients(method=v), "method must be one of"),
    "fit method": (lambda v: E.fit(X, method=v), "method must be one of"),
    "fit model": (lambda v: E.fit(X, model=v), "model must be one of 'pairwise', 'k_pairwise'"),
    "fit precision": (
        lambda v: E.fit(X, precision=v),
        "precision must be one of 'float32', 'float64'",
    ),
    "descend order": (lambda v: _ising().descend(X[:3], order=v), "order must be"),
    "fixed_points method": (lambda v: E.fixed_points(_ising(), method=v), "method must be"),
    "log_partition method": (lambda v: _ising().log_partition(v), "method must be one of 'auto'"),
    "log_likelihood reduce": (lambda v: _ising().log_likelihood(X, reduce=v), "reduce must"),
    "sample method": (lambda v: E.sample(_ising(), 10, method=v), "method must be one of 'gibbs'"),
    "glauber order": (lambda v: E.glauber(_ising(), X[:3], order=v), "order must be"),
    "store method": (lambda v: E.store(E.random_patterns(2, 8, seed=0), method=v), "method"),
    "null_words kind": (lambda v: E.null_words(X, kind=v), "kind must be one of"),
    "heat_capacity method": (
        lambda v: E.heat_capacity(_ising(), [1.0], method=v),
        "method must be one of 'auto', 'exact', 'mcmc'",
    ),
    "early_stopping mode": (lambda v: L.early_stopping(mode=v), "mode must be one of 'min', 'max'"),
    "LIFAdaptationConfig rule": (lambda v: L.LIFAdaptationConfig(rule=v), "rule must be"),
    "TotalCorrelationPenalty estimator": (
        lambda v: L.TotalCorrelationPenalty(estimator=v),
        "estimator must be one of 'gaussian', 'pairwise'",
    ),
    "lif_adaptation_hook precision": (
        lambda v: L.lif_adaptation_hook(L.LIFAdaptationConfig(), precision=v),
        "precision must be one of",
    ),
    "branching_ratio ci_method": (
        lambda v: C.branching_ratio(R.poisson(5.0, (2, 300)), ci_method=v),
        "ci_method must be one of",
    ),
    "builtin_image name": (lambda v: D.builtin_image(v), "unknown built-in image"),
    "natural_patches whiten": (
        lambda v: D.natural_patches(3, 100, images=["camera"], whiten=v),
        "whiten must be one of None",
    ),
}


@pytest.mark.parametrize("case", sorted(CHOICES))
def test_a_choice_given_an_array_is_one_line(case):
    call, said = CHOICES[case]
    with pytest.raises(InputError, match=said):
        call(ARRAY)


OTHERS = {  # (call, words of the message)
    "SpikeTrain n_units ragged": (
        lambda: D.SpikeTrain(times=[0], units=[0], n_units=RAGGED, n_steps=5),
        "n_units must be a whole number",
    ),
    "SpikeTrain dt ragged": (
        lambda: D.SpikeTrain(times=[0], units=[0], n_units=2, n_steps=5, dt=RAGGED),
        "dt must be a positive number",
    ),
    "heat_capacity temperatures ragged": (
        lambda: E.heat_capacity(_ising(), RAGGED),
        "temperatures must be a rectangular array",
    ),
    "ip_update empty a": (
        lambda: L.ip_update([], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], 0.1, 0.01),
        "a, b and x must hold one value per unit",
    ),
    "intrinsic_plasticity eta 10**30": (
        lambda: L.intrinsic_plasticity(R.random(50), 0.1, eta=10**30, eta_final=1.0, epochs=1),
        None,  # runs: a huge but finite rate is a number
    ),
    "objective_learning_signals 2-D z": (
        lambda: L.objective_learning_signals(
            "mse", np.zeros((4, 3)), np.zeros((1, 4, 1)), np.zeros((1, 4, 1))
        ),
        "z must be a \\(B, T, n\\) array",
    ),
    "objective_learning_signals y of no steps": (
        lambda: L.objective_learning_signals(
            "mse", np.zeros((1, 4, 3)), np.zeros((1, 0, 1)), np.zeros((1, 4, 1))
        ),
        "the same \\(B, T\\) >= 1",
    ),
    "objective_learning_signals text target": (
        lambda: L.objective_learning_signals("mse", np.zeros((1, 4, 3)), np.zeros((1, 4, 1)), "a"),
        "target must be real numbers",
    ),
    "gradients net None": (lambda: _gradients(net=None), "net must be an infodyn network"),
    "gradients target ragged": (
        lambda: _gradients(target=RAGGED),
        "target must be a rectangular array",
    ),
    "random_feedback dtype": (
        lambda: L.random_feedback(4, 2, dtype="3"),
        "dtype must be float32 or float64",
    ),
    "adapted_network params None": (
        lambda: L.adapted_network(_net(), None, L.init_lif_adaptation(8)),
        "params must be the network's weights",
    ),
    "adapted_network net None": (
        lambda: L.adapted_network(None, _net().init(0), L.init_lif_adaptation(8)),
        "net must be an infodyn network",
    ),
    "adapted_input None": (lambda: L.adapted_input(None), "x must be \\(T, n_in\\)"),
    "LIFAdaptationConfig theta_range None": (
        lambda: L.LIFAdaptationConfig(theta_range=None),
        "theta_range must be finite bounds",
    ),
    "lif_adaptation_update state None": (
        lambda: L.lif_adaptation_update(None, np.zeros((50, 8)), 1.0, L.LIFAdaptationConfig()),
        "the adaptation state must be the dict",
    ),
    "lif_adaptation_update cfg None": (
        lambda: L.lif_adaptation_update(L.init_lif_adaptation(8), np.zeros((50, 8)), 1.0, None),
        "cfg must be a LIFAdaptationConfig",
    ),
    "lif_adaptation_update no trial": (
        lambda: L.lif_adaptation_update(
            L.init_lif_adaptation(8), np.zeros((0, 50, 8)), 1.0, L.LIFAdaptationConfig()
        ),
        "give at least one trial",
    ),
    "init_lif_adaptation 10**30": (
        lambda: L.init_lif_adaptation(10**30),
        "n_rec must be a whole number in",
    ),
    "count_distribution_kl ragged": (
        lambda: L.count_distribution_kl(RAGGED),
        "counts must be a rectangular array",
    ),
    "stimulus_entropy_bits n_stimuli text": (
        lambda: L.stimulus_entropy_bits([0, 1, 1], n_stimuli="a"),
        "n_stimuli must be a whole number",
    ),
    "stimulus_entropy_bits ragged": (
        lambda: L.stimulus_entropy_bits(RAGGED),
        "labels must be",
    ),
    "InformationBottleneck labels None": (
        lambda: L.InformationBottleneck(labels=None),
        "labels must be",
    ),
    "PatternGeneration n_in 10**30": (
        lambda: L.PatternGeneration(n_in=10**30),
        "needs .* but .* is free",
    ),
    "LatticePID.atom None": (
        lambda: I.pid_lattice_from_table(np.full((2, 2, 2), 0.125)).atom(None),
        "is not an antichain of source subsets",
    ),
    "marginal_counts text": (
        lambda: I.EmpiricalDistribution.from_samples(X[:, :3]).marginal_counts("3"),
        "columns must be a list of column indices in \\[0, 3\\)",
    ),
    "natural_patches images 1j": (
        lambda: D.natural_patches(3, 100, images=1j),
        "images must be a built-in name",
    ),
    "natural_patches dog_sigmas None": (
        lambda: D.natural_patches(3, 100, images=["camera"], whiten="dog", dog_sigmas=None),
        "dog_sigmas must be \\(centre, surround\\)",
    ),
    "natural_patches min_contrast beyond any patch": (  # it drew for a minute
        lambda: D.natural_patches(3, 100, images=["camera"], min_contrast=2.5),
        "exceeds what any patch of these images can reach",
    ),
    "natural_patches held_out 1j": (
        lambda: D.natural_patches(3, 100, images=["camera", "coffee"], held_out=1j),
        "held_out must be a fraction or a list of image names",
    ),
    "crackling_relation 10**30": (
        lambda: C.crackling_relation(C.avalanches(R.poisson(2.0, 2000)), 10**30, 2.0),
        None,  # a huge exponent is a number: the relation is computed
    ),
    "log_likelihood log_z text": (
        lambda: _ising().log_likelihood(X, log_z="a"),
        "log_z must be a finite number",
    ),
    "fit l2 10**30": (lambda: E.fit(X, l2=10**30, maxiter=2), None),
    "PowerLawFit.pdf text": (
        lambda: C.fit_power_law(R.zipf(2.5, 500), xmin=1).pdf("a"),
        "x must be real numbers",
    ),
    "PowerLawFit.ccdf NaN": (
        lambda: C.fit_power_law(R.zipf(2.5, 500), xmin=2).ccdf(np.nan),
        "x contains NaN",
    ),
    "heat_capacity exact with n_sweeps {}": (
        lambda: E.heat_capacity(_ising(), [1.0], method="exact", n_sweeps={}),
        "n_sweeps must be",
    ),
    "step_counts block_spikes text": (
        lambda: C.step_counts(D.SpikeTrain(times=[0], units=[0], n_units=2, n_steps=5), None, "a"),
        "block_spikes must be a whole number",
    ),
    "SparseWeights.from_coo ragged pre": (
        lambda: N.SparseWeights.from_coo(RAGGED, [0, 1], [1.0, 2.0], (3, 3)),
        "pre indices must be a rectangular array",
    ),
    "SparseWeights.from_dense ragged": (
        lambda: N.SparseWeights.from_dense(RAGGED),
        "w must be a rectangular array",
    ),
    "SparseWeights values None": (
        lambda: N.SparseWeights(None, np.zeros(0, np.int32), np.zeros(4, np.int64), (3, 3)),
        "values must be a 1-D array",
    ),
    "IsingModel.load None": (lambda: E.IsingModel.load(None), "path must be a file"),
    "binarize_patches method array": (
        lambda: D.binarize_patches(R.normal(size=(5, 4)), ARRAY),
        "method must be one of 'mean', 'sign'",
    ),
    "entropy method array": (
        lambda: E.entropy(_ising(), 1.0, method=ARRAY),
        "method must be one of 'auto', 'exact', 'mcmc'",
    ),
    "poisson_spikes n_in array": (
        lambda: N.poisson_spikes(5.0, 10, n_in=ARRAY),
        "n_in must be a whole number",
    ),
    "galton_watson_avalanches m 10**30": (
        lambda: C.galton_watson_avalanches(5, m=10**30),
        "m must be a finite number in \\[0, 1e6\\]",
    ),
    "SpikeWriter dt 10**30": (
        lambda: D.SpikeWriter("/nonexistent/s.h5", n_units=2, dt=10**30, n_steps=5),
        None,  # a huge step is a number: refused only for the folder that does not exist
    ),
    "dog_filter empty image": (
        lambda: D.dog_filter(np.zeros((0, 4))),
        "image must be a non-empty 2-D array",
    ),
    "dog_filter sigma 10**30": (
        lambda: D.dog_filter(R.random((8, 8)), 0.5, 10**30),
        "must be at most 4 times the image's size",
    ),
    "saccade_path ragged start": (
        lambda: D.saccade_path("camera", 4, 3, start=RAGGED),
        "start must be a \\(row, column\\) pair",
    ),
    "IsingModel.independent pseudocount 10**30": (
        lambda: E.IsingModel.independent(X, pseudocount=10**30),
        None,
    ),
    "markov_chain ragged labels": (
        lambda: E.markov_chain(RAGGED),
        "labels must be a rectangular array",
    ),
    "memory_triggered_average ragged window": (
        lambda: E.memory_triggered_average([0, 1, 0], np.zeros(3), window=RAGGED),
        "window must be a pair",
    ),
    "adelson_bergen_kernel ragged": (
        lambda: N.adelson_bergen_kernel(RAGGED),
        "tau must be a rectangular array",
    ),
    "EmpiricalDistribution.from_samples validated array": (
        lambda: I.EmpiricalDistribution.from_samples(X, validated=ARRAY),
        "validated must be true or false",
    ),
    "fixed_points exhaustive order None": (
        lambda: E.fixed_points(_ising(), method="exhaustive", order=None),
        "order must be one of 'sequential', 'random'",
    ),
    "simulate_to_file progress text": (
        lambda: N.simulate_to_file(
            _net(),
            _net().init(0),
            np.zeros((20, 3)),
            20,
            Path(tempfile.mkdtemp()) / "x.h5",
            progress="a",
        ),
        "progress must be True, False, None or a function",
    ),
    "encode_patches text": (
        lambda: N.encode_patches("a", 5.0, 50.0),
        "grey must be real numbers",
    ),
}


@pytest.mark.parametrize("case", sorted(OTHERS))
def test_a_value_of_the_wrong_kind_is_one_line(case):
    call, said = OTHERS[case]
    if said is None:  # accepted: it ran to its end without a raw error
        call()
        return
    with pytest.raises(InputError, match=said):
        call()
