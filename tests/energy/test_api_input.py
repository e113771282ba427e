"""Bad input to the energy API: one InputError each (an adversarial review's findings: wrong
log Z, wrong likelihoods and denoising from unchecked arguments, raw errors from corrupt files)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import infodyn.energy as E
from infodyn.data import SpikeTrain
from infodyn.energy.kpairwise import KPairwiseModel
from infodyn.energy.model import IsingModel
from infodyn.errors import InputError

_RNG = np.random.default_rng(0)
_J = np.triu(_RNG.normal(0, 0.5, (5, 5)), 1)
_J = _J + _J.T
_TH = _RNG.normal(0, 0.5, 5)
_X = (_RNG.random((500, 5)) < 0.4).astype(np.uint8)
_Y = (_RNG.random((200, 5)) < 0.4).astype(np.uint8)
_AIS = dict(n_chains=10, n_betas=10)
_ST = SpikeTrain(np.array([0, 3]), np.array([0, 1]), n_units=2, n_steps=10)
_KP = KPairwiseModel(np.zeros((5, 5)), np.zeros(5), [0, 0, 0, 50, 100, 150.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # the compiled kernel read J past its end, or gave the log Z of another model
        (lambda: E.ais_log_partition(_J, np.zeros(8), **_AIS), "theta has 8 entries for 5"),
        (lambda: E.ais_log_partition(np.zeros((5, 3)), _TH, **_AIS), "J must be square"),
        (lambda: E.ais_log_partition(_J + np.triu(np.ones((5, 5)), 1), _TH, **_AIS), "symmetric"),
        (lambda: E.ais_log_partition(_J, _TH, theta0=_TH + np.inf, **_AIS), "theta0 contains"),
        (lambda: E.ais_log_partition(_J, _TH * np.nan, **_AIS), "finite"),
        (lambda: E.ais_log_partition(_J, _TH, V=np.full(6, np.nan), **_AIS), "V contains"),
        (lambda: E.exact_log_partition(_J + np.triu(np.ones((5, 5)), 1), _TH), "symmetric"),
        (lambda: E.exact_log_partition(_J, np.zeros(3)), "theta has 3 entries"),
        # flattened: a (2, 2) theta read as four fields, [[V]] as V
        (lambda: IsingModel(np.zeros((4, 4)), np.arange(4.0).reshape(2, 2)), "theta must be a"),
        (lambda: E.exact_log_partition(np.zeros((2, 2)), np.zeros((1, 2))), "theta must be a"),
        (lambda: KPairwiseModel(np.zeros((2, 2)), np.zeros(2), [[0, 1, 2]]), "V must be a vec"),
        # 0.5 was counted as 0 and 2 as another state; NaN a raw bincount error
        (lambda: E.smoothed_histogram_bits(_X * 0.5, _Y), "X_train must be binary"),
        (lambda: E.smoothed_histogram_bits(_X * 2, _Y), "X_train must be binary"),
        (lambda: E.smoothed_histogram_bits(_X, _Y[:, :3]), "X_test has 3 units"),
        (lambda: E.smoothed_histogram_bits(_X, _Y, pseudocount=np.inf), "pseudocount"),
        # descended an energy without V(K); non-binary Y taken; max_sweeps=-1 returned Y
        (lambda: E.posterior_descent(_KP, np.ones((1, 5)), 0.2), "potential V"),
        (lambda: E.posterior_descent(IsingModel(_J, _TH), np.full((1, 5), 7), 0.1), "binary"),
        (lambda: E.posterior_descent(IsingModel(_J, _TH), np.ones((1, 5)), 0.1, -1), "max_sweeps"),
        (lambda: E.posterior_descent(IsingModel(_J, _TH), np.ones((1, 3)), 0.1), "3 units"),
        # raw TypeErrors, or truncated counts
        (lambda: E.corrupt(np.zeros((2, 5)), 2.0), "k must be an integer"),
        (lambda: E.capacity_curve(6, [2.7]), "counts must be an integer"),
        (lambda: E.store(np.eye(4), method="outer", l2=5), "takes no fit options"),
        (lambda: E.fit(_X, tol=np.nan), "tol must be a finite number"),
        (lambda: E.fit(_X, gtol=-1.0), "gtol must be >= 0"),
        (lambda: E.fit(_X, l2=None), "l2 must be a finite number"),
        (lambda: E.fit([[1, 0], [1]]), "X must be a rectangular array"),  # NumPy's ValueError
        # "5 unit(s) never change in the data"; a silent NaN correlation of covariances
        (lambda: E.fit(np.array([0, 1, 1, 0, 1])), r"5 units \(a 1-D array is one pattern\)"),
        (lambda: E.compare_statistics(_X, _X[:1]), "samples needs at least 2 pattern"),
        (lambda: E.fit(_X[:3], validation=0.9), "validation = 0.9 holds out 3 of the 3 training"),
        (lambda: E.heldout_report(IsingModel(_J, _TH), _X, _Y, log_z="3"), "log_z must be a"),
        (lambda: E.glauber(IsingModel(_J, _TH), _X[:2], temperature="1"), "temperature must"),
        (lambda: IsingModel(_J, _TH, fit_info=[[1, 2]]), "fit_info must be a table"),  # {1: 2}
        (lambda: E.all_states("a"), "n must be a whole number"),  # a raw TypeError
        (lambda: E.zipf_slope(_X, rank_range=None), "rank_range must be two whole numbers"),
        (lambda: KPairwiseModel.from_pairwise("a"), "model"),  # an AttributeError
        (lambda: E.denoising_rows("a", None, _X[:2], [1], 0), "model must be an energy model"),
        (
            lambda: E.glauber(IsingModel(_J, _TH), _X[:2], seed=10**30),
            r"seed must be a whole number in \[0, 2\^32\)",
        ),
        (lambda: E.binary_words(_ST, bin_ms="3"), "bin_ms must be a positive number"),  # 3 ms
        (lambda: E.all_states(True), "n must be a whole number"),  # one unit
        (lambda: E.random_patterns(5, 4, p="0.5"), "p must be in"),
        (lambda: E.posterior_descent(IsingModel(_J, _TH), _X[:1], "0.1"), "flip probability"),
        (lambda: E.clique_network(6, threshold="3"), "threshold must be a finite number"),
        (lambda: E.clique_network(6, share=True), "share must be a finite number"),
        (lambda: E.capacity_curve(6, counts={}), "counts must be a non-empty list"),
        (lambda: E.generalisation_curve(_X, sizes=[]), "sizes must be a non-empty list"),
        (lambda: E.generalisation_curve(_X, sizes=[20.5]), "sizes must be a whole number"),
        (lambda: E.basin_profile(IsingModel(_J, _TH), _X[:2], [1], seed=True), "seed must"),
        (lambda: E.IsingModel([[0, 1], [1]], [0, 0]), "J must be a rectangular array"),
        (lambda: E.is_fixed_point(IsingModel(_J, _TH), _X, strict="no"), "strict must be true"),
        (lambda: E.descend(IsingModel(_J, _TH), _X, return_sweeps=1), "return_sweeps must be"),
    ],
)
def test_energy_api_bad_input_is_one_input_error(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_model_files_that_cannot_be_read_are_one_input_error(tmp_path):
    model = IsingModel(_J, _TH)
    good = model.save(tmp_path / "m.npz")
    (tmp_path / "trunc.npz").write_bytes(good.read_bytes()[:100])
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "arr.npy", np.zeros(3))
    np.savez(tmp_path / "fi.npz", J=np.zeros((3, 3)), theta=np.zeros(3), fit_info=np.array("[1]"))
    np.savez(tmp_path / "fmt.npz", J=np.zeros((3, 3)), theta=np.zeros(3), format=np.array("v9"))
    cases = {
        "trunc.npz": "truncated or corrupt",  # BadZipFile
        "empty.npz": "cannot read this model file",  # EOFError
        "arr.npy": "not an infodyn Ising model file",  # TypeError
        "fi.npz": "fit_info must be a JSON table",  # TypeError in dict()
        "fmt.npz": "format 'v9'",  # loaded without a word
    }
    for name, message in cases.items():
        with pytest.raises(InputError, match=message):
            IsingModel.load(tmp_path / name)
    # KPairwiseModel.load passed the fit record as its potential V
    with pytest.raises(InputError, match="holds a pairwise IsingModel, not a KPairwiseModel"):
        KPairwiseModel.load(good)
    back = IsingModel.load(good)
    np.testing.assert_array_equal(back.J, model.J)


def test_weighted_fits_report_the_weight_total():
    """Counts (whole-number weights) of unique rows are 500 samples, as the rows they count
    are (n_samples said the rows, 30 for 3000 words); other weights leave the rows."""
    U, c = np.unique(_X, axis=0, return_counts=True)
    info = E.fit(U, weights=c).fit_info
    assert info["n_samples"] == 500 == E.fit(_X).fit_info["n_samples"]
    assert info["weight_total"] == 500.0
    assert E.fit(U, weights=c / 500.0).fit_info["n_samples"] == U.shape[0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # NaN or the maximum entropy with only RuntimeWarnings
        (lambda m: E.heat_capacity(m, [1e-310, 1.0], method="exact"), "temperatures must be >="),
        (lambda m: E.entropy(m, [1e-300], method="exact"), "temperatures must be >="),
        (lambda m: E.heat_capacity(m, ["1"], method="exact"), "temperatures must be numbers"),
        (lambda m: E.entropy(m, 1.0, method="exact", n_sweeps=-5), "of method='mcmc'"),
        (lambda m: m.sample(5, temperature="1"), "temperature must be a finite number"),
        (lambda m: m.sample(5, temperature=np.array([1, 2])), "temperature must be a finite"),
        (lambda m: E.zipf_slope(_X, rank_range=(1, 10, 5)), "rank_range must be two whole"),
        (lambda m: E.zipf_slope(_X, rank_range=(1, np.nan)), "rank_range must be two whole"),
        (lambda m: E.markov_chain(np.zeros((2, 5), dtype=int)), "one 1-D sequence"),
        (lambda m: E.markov_chain([-1, -2, -1]), "every label is negative"),
        (lambda m: E.markov_chain([-1, -1], n_states=3), "every label is negative"),
        (lambda m: E.memory_triggered_average([0.5, 1.5], np.zeros(2)), "labels must be integ"),
        (lambda m: E.memory_triggered_average([], np.zeros(0)), "non-empty 1-D"),
        (  # the visits to memories 2 and 3 were left out without a word
            lambda m: E.memory_triggered_average(
                np.array([0, 1, 2, 3, 3, 0]), np.arange(6.0), n_memories=2, window=(0, 0)
            ),
            r"a label \(3\) exceeds n_memories \(2\)",
        ),
    ],
)
def test_thermodynamics_and_memory_statistics_check_their_input(call, message):
    with pytest.raises(InputError, match=message):
        call(IsingModel(_J, _TH))


def test_more_bad_inputs_found_by_a_fuzz_are_refused():
    """Each returned a number before: unique_patterns merged [3, 0] with [1, 0]; n_parameters
    and expected_kl took -1, 1.5 and 0.5 samples; NaN segment ids cut every transition of a
    Markov chain (entropy rate 0); a NaN log_z made every likelihood NaN and log_z = -100 one of
    144.9 bits a pattern; complex fields lost their imaginary part."""
    with pytest.raises(InputError, match="must be binary"):
        E.unique_patterns(np.array([[3, 0], [1, 0]]))
    for bad in (-1, 1.5, True):
        with pytest.raises(InputError, match="n must be a whole number"):
            E.n_parameters(bad)
    for bad in (0.5, 0, np.inf):
        with pytest.raises(InputError, match="n_samples must be a whole number"):
            E.expected_kl(3, bad)
    assert E.expected_kl(3, 10) == 6 / 20
    with pytest.raises(InputError, match="segments must be finite"):
        E.markov_chain(np.array([0, 1, 0, 1, 0, 1]), segments=np.full(6, np.nan))
    model = IsingModel(np.zeros((5, 5)), np.zeros(5))
    X = (np.random.default_rng(0).random((50, 5)) < 0.5).astype(np.uint8)
    with pytest.raises(InputError, match="log_z must be a finite number"):
        E.heldout_report(model, X, X, log_z=np.nan)
    with pytest.raises(InputError, match="a probability above 1"):
        E.heldout_report(model, X, X, log_z=-100.0)
    report = E.heldout_report(model, X, X, log_z=5 * np.log(2))  # the uniform model's own
    assert report["model_test_bits"] == pytest.approx(-5.0, abs=1e-12)
    with pytest.raises(InputError, match="theta must hold real numbers"):
        E.exact_log_partition(np.zeros((5, 5)), np.zeros(5) + 5j)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, X: E.descend(m, X),
        lambda m, X: E.flip_energies(m, X),
        lambda m, X: E.fixed_points(m),
        lambda m, X: E.memory_labels(m, X),
        lambda m, X: E.storage_fraction(m, X),
        lambda m, X: E.heat_capacity(m, [1.0]),
        lambda m, X: E.sample(m, 10),
        lambda m, X: E.heldout_report(m, X, X),
        lambda m, X: E.posterior_descent(m, X, 0.1),
    ],
)
def test_what_is_not_a_model_is_refused_in_one_line(call):
    """The couplings J (or None, or a fit's record) passed as the model gave "'numpy.ndarray'
    object has no attribute 'n'" deep in 18 functions."""
    X = np.zeros((4, 3), np.uint8)
    for not_a_model in (np.zeros((3, 3)), None, {"J": np.zeros((3, 3))}):
        with pytest.raises(InputError, match="model must be an energy model"):
            call(not_a_model, X)
    model = IsingModel(np.zeros((3, 3)), np.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(model, X)  # and a model still works


def test_flip_counts_and_windows_are_whole_numbers():
    """basin_profile(ks=[]) failed in NumPy's stack, a scalar ks with a TypeError, ks=[1.5] ran
    one flip; memory_triggered_average's window (1,) was an IndexError and (1.9, 0.9) ran as
    (1, 0)."""
    model = IsingModel(np.zeros((5, 5)), np.zeros(5))
    patterns = np.eye(5, dtype=np.uint8)
    for ks in ([], 1):
        with pytest.raises(InputError, match="ks must be a non-empty list"):
            E.basin_profile(model, patterns, ks)
    with pytest.raises(InputError, match="each k of ks must be a whole number"):
        E.denoising_curve(model, patterns, [1.5])
    assert E.basin_profile(model, patterns, np.array([0, 1])).shape == (5, 2)
    labels, stimulus = np.zeros(20, int), np.zeros(20)
    for window, message in [
        ((1,), "must be a pair"),
        (None, "must be a pair"),
        ((1.9, 0.9), "pre"),
    ]:
        with pytest.raises(InputError, match=message):
            E.memory_triggered_average(labels, stimulus, window=window)


def test_counts_beyond_int64_are_refused_not_run_for_ever():
    # zipf_slope(n_boot=10**30) looped for ever; ais n_chains=10**30 overflowed in NumPy
    with pytest.raises(InputError, match="n_boot must be at most 2.63 - 1"):
        E.zipf_slope(_X, rank_range=(1, 10), n_boot=10**30)


def test_messages_name_the_argument_and_empty_state_sets_pass_through():
    """The strict fixed points of a model that has none, (0, n), were refused by energy() and
    is_fixed_point(); a unit-count mismatch between two data arrays said "the model has 6" where
    there is none."""
    model = IsingModel(np.zeros((4, 4)), np.zeros(4))
    none = model.fixed_points(strict=True)
    assert none.shape == (0, 4)
    assert model.energy(none).shape == (0,) and model.is_fixed_point(none).shape == (0,)
    assert KPairwiseModel(np.zeros((4, 4)), np.zeros(4), np.zeros(5)).energy(none).shape == (0,)
    for mean_of_none in (  # a mean over no rows is refused, not NaN with NumPy's warning
        lambda: model.log_likelihood(none),
        lambda: E.storage_fraction(model, none),
    ):
        with pytest.raises(InputError, match="needs at least 1 pattern"):
            mean_of_none()
    assert model.log_likelihood(none, reduce="sum") == 0.0
    six, five = np.zeros((3, 6)), np.zeros((3, 5))
    with pytest.raises(InputError, match="B has 5 units but A has 6"):
        E.hamming_distances(six, five)
    with pytest.raises(InputError, match="X_test has 5 units but X_train has 6"):
        E.empirical_log_likelihood(six, five)


def test_couplings_near_the_float_limit_are_symmetrised_without_overflow():
    """(J + J.T) / 2 overflowed: finite couplings of 1e308 were stored as inf, and log Z then
    said "J and theta must be finite" of the user's finite input."""
    J = np.full((3, 3), 1e308)
    np.fill_diagonal(J, 0.0)
    assert np.array_equal(IsingModel(J, np.zeros(3)).J, J)


def test_sizes_beyond_memory_are_refused_before_any_array_is_made():
    """A pairwise model of 10^6 units reached the unbounded-pair check's 10^6 x 10^6 counts
    (a raw MemoryError trying 7.3 TiB); max_found = 2**40 was the exhaustive kernel's buffer
    (a raw MemoryError): it holds at most the 2^n states."""
    from infodyn.memory import MemoryPreflightError

    for call in (
        lambda: E.store(np.zeros((1, 10**6), np.uint8)),
        lambda: E.capacity_curve(10**6, [1]),
    ):
        with pytest.raises(MemoryPreflightError, match="1,000,000 x 1,000,000 couplings"):
            call()
    model = IsingModel(_J, _TH)
    assert np.array_equal(
        E.exhaustive_fixed_points(model, max_found=2**40), E.exhaustive_fixed_points(model)
    )


def test_a_test_fraction_that_holds_out_no_row_is_refused_before_fitting():
    X = (np.random.default_rng(1).random((40, 5)) < 0.4).astype(np.uint8)
    with pytest.raises(InputError, match="test_fraction=0.01 of 40 rows holds out no row"):
        E.generalisation_curve(X, [30], test_fraction=0.01)
