"""The log base option of every information measure: value(base=e) = value(base=2) ln 2 for all
of ``infodyn.information``'s measures, bias corrections that scale with it, dit and pyinform in
other bases, and one error for a bad base."""

from __future__ import annotations

import math

import dit
import numpy as np
import pyinform
import pytest

import infodyn.information as I
from infodyn.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore::infodyn.information.UndersampledWarning")

LN2 = math.log(2.0)
RNG = np.random.default_rng(7)
X3 = (RNG.random((400, 3)) < 0.4).astype(np.int64)
X3[:, 2] ^= X3[:, 0] & (RNG.random(400) < 0.7)  # dependence between columns 0 and 2
X4 = np.column_stack([X3, RNG.integers(0, 3, 400)])  # a ternary column
SRC = (RNG.random((2, 300)) < 0.5).astype(np.int64)
TGT = np.roll(SRC, 1, axis=1) ^ (RNG.random((2, 300)) < 0.2)
COND = (RNG.random((2, 300)) < 0.5).astype(np.int64)
SRC3, TGT3, COND3 = SRC[..., None], TGT[..., None], COND[..., None]  # (trials, steps, 1)
REAL = RNG.standard_normal((300, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1.0]])
P_AND = np.zeros((2, 2, 2))
for a in (0, 1):
    for b in (0, 1):
        P_AND[a, b, a & b] = 0.25
P3 = np.random.default_rng(1).random((2, 2, 2, 2))
P3 /= P3.sum()
LABELS = np.repeat(np.arange(4), 30)
Z = (np.random.default_rng(3).random((120, 40, 5)) < 0.1 + 0.05 * LABELS[:, None, None]).astype(
    np.float32
)

# name -> function of base returning the measure (any result type; _values flattens it)
MEASURES = {
    "entropy_plugin": lambda b: I.entropy(X3, base=b),
    "entropy_miller_madow": lambda b: I.entropy(X4, "miller_madow", base=b),
    "entropy_nsb": lambda b: I.entropy(X3, "nsb", base=b),
    "entropy_from_counts": lambda b: I.entropy_from_counts([5, 3, 2, 0, 1], "miller_madow", base=b),
    "conditional_entropy": lambda b: I.conditional_entropy(X3[:, 0], X3[:, 2], base=b),
    "mutual_information": lambda b: I.mutual_information(X3[:, :2], X3[:, 2], base=b),
    "mutual_information_nsb": lambda b: I.mutual_information(X3[:, 0], X3[:, 2], "nsb", base=b),
    "conditional_mutual_information": lambda b: I.conditional_mutual_information(
        X3[:, 0], X3[:, 2], X3[:, 1], "miller_madow", base=b
    ),
    "total_correlation": lambda b: I.total_correlation(X4, base=b),
    "dual_total_correlation": lambda b: I.dual_total_correlation(X4, base=b),
    "o_information": lambda b: I.o_information(X4, "miller_madow", base=b),
    "s_information": lambda b: I.s_information(X4, base=b),
    "co_information": lambda b: I.co_information(X3, base=b),
    "multivariate_summary": lambda b: I.multivariate_summary(X4, base=b),
    "pairwise_mutual_information_binary": lambda b: I.pairwise_mutual_information(
        X3, "miller_madow", base=b
    ),
    "pairwise_mutual_information_other": lambda b: I.pairwise_mutual_information(X4, base=b),
    "conditional_total_correlation": lambda b: I.conditional_total_correlation(
        X3[:, :2], X4[:, 3], base=b
    ),
    "transfer_entropy": lambda b: I.transfer_entropy(SRC3, TGT3, k=2, base=b),
    "conditional_transfer_entropy": lambda b: I.transfer_entropy(
        SRC3, TGT3, condition=COND3, estimator="miller_madow", base=b
    ),
    "active_information_storage": lambda b: I.active_information_storage(TGT3, k=2, base=b),
    "entropy_rate": lambda b: I.entropy_rate(TGT3, k=2, base=b),
    "local_transfer_entropy": lambda b: I.local_transfer_entropy(SRC3, TGT3, base=b),
    "local_active_information_storage": lambda b: I.local_active_information_storage(TGT3, base=b),
    "block_entropy": lambda b: I.block_entropy(TGT3, 3, base=b),
    "excess_entropy": lambda b: I.excess_entropy(TGT3, 3, base=b),
    "channel_capacity": lambda b: I.channel_capacity(I.binary_symmetric_channel(0.1), base=b),
    "pid_wb": lambda b: I.pid(X3[:, 0], X3[:, 1], X3[:, 2], base=b),
    "pid_broja": lambda b: I.pid_from_table(P_AND, "broja", base=b),
    "pid_lattice": lambda b: I.pid_lattice([X3[:, 0], X3[:, 1]], X3[:, 2], base=b),
    "pid_lattice_from_table": lambda b: I.pid_lattice_from_table(P3, base=b),
    "gaussian_entropy": lambda b: I.gaussian_entropy(REAL, bias_correct=True, base=b),
    "gaussian_mutual_information": lambda b: I.gaussian_mutual_information(
        REAL[:, 0], REAL[:, 1:], copula=True, base=b
    ),
    "gaussian_total_correlation": lambda b: I.gaussian_total_correlation(REAL, base=b),
    "gaussian_total_correlation_ridge": lambda b: I.gaussian_total_correlation(
        REAL, ridge=0.1, ddof=0, base=b
    ),
    "shuffle_corrected_mi": lambda b: I.shuffle_corrected_mi(
        X3[:, 0], X3[:, 2], n_shuffles=5, base=b
    ),
    "mi_permutation_test": lambda b: I.mi_permutation_test(
        X3[:, 0], X3[:, 2], n_permutations=20, base=b
    ),
    "response_information": lambda b: I.response_information(
        Z, LABELS, bin_steps=10, subset_size=3, n_subsets=2, n_shuffles=2, base=b
    ),
    "response_gaussian_tc": lambda b: I.response_gaussian_tc(Z, bin_steps=5, base=b),
}


def _values(r) -> np.ndarray:
    """The numbers of a result, in a fixed order (unit-free keys for dicts)."""
    if isinstance(r, I.ChannelCapacity):
        return np.array([r.capacity, r.gap])
    if isinstance(r, I.PIDResult):
        return np.array([*r, r.mi1, r.mi2, r.mi_joint])
    if isinstance(r, I.LatticePID):
        return np.array([*r.atoms.values(), *r.redundancy.values(), r.mi_joint])
    if isinstance(r, I.PermutationTest):
        return np.concatenate([[r.mi, r.null_mean, r.null_std, r.corrected], r.null])
    if isinstance(r, I.Estimate):
        return np.array([float(r), r.std])
    if isinstance(r, dict):  # response_information names its unit in the keys
        counts = ("subset_size", "n_subsets", "bin_steps", "n_samples")
        unitless = {
            k.replace("_bits", "").replace("_nats", "").replace("_hartleys", ""): v
            for k, v in r.items()
            if k not in counts
        }
        return np.array([unitless[k] for k in sorted(unitless)], dtype=float)
    return np.asarray(r, dtype=float)


def test_every_exported_measure_is_covered():
    """Every public function of infodyn.information that returns information takes ``base``."""
    import inspect

    not_measures = {  # helpers: data views, encodings, and classes
        "encode",
        "join",
        "lagged",
        "pack_words",
        "spike_words",
        "trial_view",
        "word_counts",
        "copula_normalize",
        "binary_erasure_channel",
        "binary_symmetric_channel",
        "response_words",
    }
    funcs = {n for n in I.__all__ if inspect.isfunction(getattr(I, n)) and n not in not_measures}
    missing = {n for n in funcs if "base" not in inspect.signature(getattr(I, n)).parameters}
    assert not missing
    covered = {n for n in funcs if any(k.startswith(n) for k in MEASURES)} | {"pid_from_table"}
    assert funcs <= covered


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_base_e_is_bits_times_ln2(name):
    f = MEASURES[name]
    bits, nats, hartleys = (_values(f(b)) for b in (2, math.e, 10))
    assert bits.size > 0 and np.any(bits != 0)
    np.testing.assert_allclose(nats, bits * LN2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hartleys, bits * math.log10(2), rtol=1e-9, atol=1e-12)


def test_result_keys_and_estimates_name_their_unit():
    r = I.response_information(Z, LABELS, bin_steps=10, subset_size=3, n_shuffles=1, base=math.e)
    assert {"mi_nats", "mi_nats_sd", "mi_plugin_nats", "tc_nats", "tc_nats_sd"} <= set(r)
    r3 = I.response_information(Z, LABELS, bin_steps=10, subset_size=3, n_shuffles=1, base=3)
    assert "mi_base3" in r3
    h = I.entropy(X3, base=math.e)
    assert h.base == math.e and "nats" in repr(h)
    assert I.pid(X3[:, 0], X3[:, 1], X3[:, 2], base=math.e).base == math.e
    import pickle

    assert pickle.loads(pickle.dumps(h)).base == math.e


def test_miller_madow_correction_scales_with_the_base():
    """Miller-Madow adds (K - 1) / (2 N) nats: in base b, (K - 1) / (2 N ln b)."""
    counts = np.array([7.0, 4, 3, 1])
    n, k = counts.sum(), counts.size
    p = counts / n
    h_nats = -(p * np.log(p)).sum()
    for b in (math.e, 2.0, 10.0, 3.0):
        mm = I.entropy_from_counts(counts, "miller_madow", base=b)
        assert float(mm) == pytest.approx((h_nats + (k - 1) / (2 * n)) / math.log(b), rel=1e-12)
        plug = I.entropy_from_counts(counts, base=b)
        assert float(mm) - float(plug) == pytest.approx((k - 1) / (2 * n * math.log(b)))


def _dit_dist(rows: np.ndarray, base) -> dit.Distribution:
    u, c = np.unique(rows, axis=0, return_counts=True)
    d = dit.Distribution(["".join(map(str, r)) for r in u], c / c.sum())
    d.set_base(base)
    return d


@pytest.mark.parametrize("base", ["e", 10, 3])
def test_against_dit_in_other_bases(base):
    b = math.e if base == "e" else base
    d = _dit_dist(X4, base)
    cols = [[i] for i in range(4)]
    assert float(I.entropy(X4, base=b)) == pytest.approx(dit.multivariate.entropy(d), abs=1e-12)
    assert I.mutual_information(X4[:, :2], X4[:, 2:], base=b) == pytest.approx(
        dit.shannon.mutual_information(d, [0, 1], [2, 3]), abs=1e-12
    )
    assert I.total_correlation(X4, base=b) == pytest.approx(
        dit.multivariate.total_correlation(d, cols), abs=1e-12
    )
    assert I.dual_total_correlation(X4, base=b) == pytest.approx(
        dit.multivariate.dual_total_correlation(d, cols), abs=1e-12
    )
    assert I.o_information(X4, base=b) == pytest.approx(
        dit.multivariate.o_information(d, cols), abs=1e-12
    )
    assert I.co_information(X4, base=b) == pytest.approx(
        dit.multivariate.coinformation(d, cols), abs=1e-12
    )
    assert I.conditional_mutual_information(X4[:, 0], X4[:, 2], X4[:, 3], base=b) == (
        pytest.approx(dit.multivariate.coinformation(d, [[0], [2]], [3]), abs=1e-12)
    )


def test_literal_values_from_dit_and_pyinform():
    """Values printed by the peers (dit 2.3, pyinform 0.2.0) for fixed inputs, in nats."""
    # dit: d = dit.Distribution(['00', '01', '10', '11'], [0.4, 0.1, 0.1, 0.4]);
    # d.set_base('e'); dit.multivariate.entropy(d), dit.multivariate.total_correlation(d)
    rows = np.repeat([[0, 0], [0, 1], [1, 0], [1, 1]], [4, 1, 1, 4], axis=0)
    assert float(I.entropy(rows, base=math.e)) == pytest.approx(1.1935496040981333, abs=1e-13)
    assert I.total_correlation(rows, base=math.e) == pytest.approx(0.1927447570217573, abs=1e-13)
    # pyinform.shannon.entropy(pyinform.Dist([4, 1, 1, 4]), b=math.e) and b=10
    counts = [4, 1, 1, 4]
    assert float(I.entropy_from_counts(counts, base=math.e)) == pytest.approx(
        pyinform.shannon.entropy(pyinform.Dist(counts), b=math.e), abs=1e-13
    )
    assert float(I.entropy_from_counts(counts, base=10)) == pytest.approx(
        pyinform.shannon.entropy(pyinform.Dist(counts), b=10), abs=1e-13
    )


@pytest.mark.parametrize("k", [1, 2])
def test_te_and_ais_in_nats_against_pyinform(k):
    """pyinform's TE and AIS are in bits (no base argument): in nats they are times ln 2."""
    te = pyinform.transfer_entropy(SRC, TGT, k=k)
    ais = pyinform.active_info(TGT, k=k)
    assert I.transfer_entropy(SRC3, TGT3, k=k, base=math.e) == pytest.approx(te * LN2, abs=1e-12)
    assert I.active_information_storage(TGT3, k=k, base=math.e) == pytest.approx(
        ais * LN2, abs=1e-12
    )


@pytest.mark.parametrize("bad", [0, 0.5, 1, 1.0, -2, float("nan"), float("inf"), "two", None])
def test_bad_base_raises_one_input_error(bad):
    for f in (
        lambda: I.entropy(X3, base=bad),
        lambda: I.mutual_information(X3[:, 0], X3[:, 1], base=bad),
        lambda: I.transfer_entropy(SRC3, TGT3, base=bad),
        lambda: I.gaussian_entropy(REAL, base=bad),
        lambda: I.channel_capacity(I.binary_symmetric_channel(0.1), base=bad),
        lambda: I.pid_from_table(P_AND, base=bad),
        lambda: I.block_entropy(TGT3, 2, base=bad),
        lambda: I.response_information(Z, LABELS, base=bad),
    ):
        with pytest.raises(InputError, match="base must be a number > 1"):
            f()
