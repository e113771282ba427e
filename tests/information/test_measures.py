"""MI, CMI, TC, DTC, O/S-information and co-information: analytic cases, dit, properties."""

import itertools

import dit
import numpy as np
import pytest
from entropy_reference import h_rows, nsb
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import infodyn.information as I
from infodyn.information import (
    co_information,
    conditional_mutual_information,
    dual_total_correlation,
    entropy,
    multivariate_summary,
    mutual_information,
    o_information,
    pairwise_mutual_information,
    s_information,
    total_correlation,
)

pytestmark = pytest.mark.filterwarnings("ignore::infodyn.information.UndersampledWarning")

BITS2 = np.array(list(itertools.product([0, 1], repeat=2)))
XOR = np.column_stack([BITS2, BITS2[:, 0] ^ BITS2[:, 1]])
AND = np.column_stack([BITS2, BITS2[:, 0] & BITS2[:, 1]])
COPY = np.column_stack([BITS2, 2 * BITS2[:, 0] + BITS2[:, 1]])


def _parity(n: int) -> np.ndarray:
    free = np.array(list(itertools.product([0, 1], repeat=n - 1)))
    return np.column_stack([free, free.sum(1) % 2])


def _giant_bit(n: int) -> np.ndarray:
    return np.array([[0] * n, [1] * n])


def test_two_variable_cases():
    assert mutual_information(XOR[:, :2], XOR[:, 2]) == pytest.approx(1.0)
    assert mutual_information(XOR[:, 0], XOR[:, 2]) == pytest.approx(0.0, abs=1e-12)
    assert mutual_information(AND[:, :2], AND[:, 2]) == pytest.approx(0.811278124459, abs=1e-9)
    assert mutual_information(COPY[:, :2], COPY[:, 2]) == pytest.approx(2.0)
    assert conditional_mutual_information(XOR[:, 0], XOR[:, 2], XOR[:, 1]) == pytest.approx(1.0)
    assert co_information(XOR) == pytest.approx(-1.0)  # synergy: negative
    assert co_information(_giant_bit(3)) == pytest.approx(1.0)  # redundancy: positive


@pytest.mark.parametrize("n", [3, 4, 6])
def test_parity_and_giant_bit_closed_forms(n):
    par = multivariate_summary(_parity(n))
    assert par["joint_entropy"] == pytest.approx(n - 1)
    assert par["total_correlation"] == pytest.approx(1.0)
    assert par["dual_total_correlation"] == pytest.approx(n - 1)
    assert par["o_information"] == pytest.approx(2 - n)
    assert par["s_information"] == pytest.approx(n)
    gb = _giant_bit(n)
    assert total_correlation(gb) == pytest.approx(n - 1)
    assert dual_total_correlation(gb) == pytest.approx(1.0)
    assert o_information(gb) == pytest.approx(n - 2)
    assert s_information(gb) == pytest.approx(n)


def test_independent_bits_have_no_shared_information():
    rows = np.array(list(itertools.product([0, 1], repeat=5)))
    assert total_correlation(rows) == pytest.approx(0.0, abs=1e-12)
    assert dual_total_correlation(rows) == pytest.approx(0.0, abs=1e-12)
    assert o_information(rows) == pytest.approx(0.0, abs=1e-12)
    assert co_information(rows) == pytest.approx(0.0, abs=1e-12)


def _random_table(rng, shape, zeros=0.2):
    counts = rng.integers(1, 12, size=shape) * (rng.random(shape) > zeros)
    counts.flat[0] += 1
    return counts


def _rows_and_dit(counts):
    idx = np.argwhere(counts > 0)
    rows = np.repeat(idx, counts[counts > 0], axis=0)
    outcomes = [tuple(int(v) for v in r) for r in idx]
    d = dit.Distribution(outcomes, counts[counts > 0] / counts.sum())
    return rows, d


@pytest.mark.parametrize("seed", range(4))
def test_against_dit_on_random_distributions(seed):
    rng = np.random.default_rng(seed)
    shape = [(2, 3, 2, 2), (3, 2, 2, 3), (2, 2, 2, 2), (4, 2, 3, 2)][seed]
    rows, d = _rows_and_dit(_random_table(rng, shape))
    v = list(range(4))
    assert float(entropy(rows)) == pytest.approx(dit.shannon.entropy(d), abs=1e-10)
    assert mutual_information(rows[:, :2], rows[:, 2:]) == pytest.approx(
        dit.shannon.mutual_information(d, [0, 1], [2, 3]), abs=1e-10
    )
    assert conditional_mutual_information(rows[:, 0], rows[:, 1], rows[:, 2:]) == pytest.approx(
        dit.multivariate.coinformation(d, [[0], [1]], [2, 3]), abs=1e-10
    )
    assert total_correlation(rows) == pytest.approx(
        dit.multivariate.total_correlation(d, [[i] for i in v]), abs=1e-10
    )
    assert dual_total_correlation(rows) == pytest.approx(
        dit.multivariate.dual_total_correlation(d, [[i] for i in v]), abs=1e-10
    )
    assert o_information(rows) == pytest.approx(
        dit.multivariate.o_information(d, [[i] for i in v]), abs=1e-10
    )
    assert co_information(rows) == pytest.approx(
        dit.multivariate.coinformation(d, [[i] for i in v]), abs=1e-10
    )
    assert co_information(rows[:, :3]) == pytest.approx(
        -dit.multivariate.interaction_information(d, [[0], [1], [2]]), abs=1e-10
    )


def test_pairwise_matrix_matches_pairwise_calls():
    rng = np.random.default_rng(7)
    common = rng.random(3000) < 0.2
    x = (rng.random((3000, 6)) < 0.1) | (common[:, None] & (rng.random((3000, 6)) < 0.6))
    x = x.astype(np.uint8)
    for est in ("plugin", "miller_madow", "nsb"):
        m = pairwise_mutual_information(x, est)
        assert m[1, 4] == pytest.approx(mutual_information(x[:, 1], x[:, 4], est), abs=1e-10)
        assert m[2, 2] == pytest.approx(float(entropy(x[:, 2], est)), abs=1e-10)
        np.testing.assert_allclose(m, m.T)
    tern = rng.integers(0, 3, (500, 4))
    m = pairwise_mutual_information(tern)
    assert m[0, 3] == pytest.approx(mutual_information(tern[:, 0], tern[:, 3]), abs=1e-12)


def test_wide_words_mi_equals_entropy_for_copy():
    rng = np.random.default_rng(8)
    x = (rng.random((5000, 96)) < 0.1).astype(np.uint8)
    assert mutual_information(x, x) == pytest.approx(float(entropy(x)), abs=1e-9)
    assert mutual_information(x[:, :64], x[:, ::-1][:, 32:]) == pytest.approx(
        float(entropy(x[:, :64])), abs=1e-9
    )


symbols = arrays(
    np.int64, st.tuples(st.integers(5, 60), st.integers(3, 5)), elements=st.integers(0, 2)
)


@settings(max_examples=40, deadline=None)
@given(symbols, st.randoms(use_true_random=False))
def test_properties(x, rnd):
    cols = list(range(x.shape[1]))
    rnd.shuffle(cols)
    rows = list(range(x.shape[0]))
    rnd.shuffle(rows)
    tc, dtc, oi = total_correlation(x), dual_total_correlation(x), o_information(x)
    # permutation invariance: of variables (columns) and of samples (rows)
    assert total_correlation(x[:, cols]) == pytest.approx(tc, abs=1e-9)
    assert o_information(x[:, cols]) == pytest.approx(oi, abs=1e-9)
    assert dual_total_correlation(x[rows]) == pytest.approx(dtc, abs=1e-9)
    # non-negativity where guaranteed
    assert tc >= -1e-9 and dtc >= -1e-9
    mi = mutual_information(x[:, :1], x[:, 1:])
    assert mi >= -1e-9
    assert conditional_mutual_information(x[:, 0], x[:, 1], x[:, 2]) >= -1e-9
    # I(X;Y) <= min(H(X), H(Y))
    assert mi <= min(float(entropy(x[:, :1])), float(entropy(x[:, 1:]))) + 1e-9
    assert mutual_information(x[rows, :1], x[rows, 1:]) == pytest.approx(mi, abs=1e-9)


def test_wide_populations_use_distinct_rows_and_agree_with_entropies():
    # 24 binary units over 3000 samples: 2**24 cells, so the distinct-row path is used
    rng = np.random.default_rng(9)
    latent = rng.random((3000, 1)) < 0.3
    x = ((rng.random((3000, 24)) < 0.1) | (latent & (rng.random((3000, 24)) < 0.5))).astype(int)
    h = float(entropy(x))
    singles = sum(float(entropy(x[:, i])) for i in range(24))
    loo = sum(float(entropy(np.delete(x, i, axis=1))) for i in range(24))
    s = multivariate_summary(x)
    assert s["total_correlation"] == pytest.approx(singles - h, abs=1e-9)
    assert s["dual_total_correlation"] == pytest.approx(loo - 23 * h, abs=1e-9)
    assert o_information(x, "miller_madow") == pytest.approx(
        o_information(x[:, ::-1], "miller_madow"), abs=1e-9
    )


def test_mi_nsb_uses_the_product_alphabet():
    """I_NSB(X;Y) = H(X) + H(Y) - H(X,Y) with each NSB entropy over its own alphabet
    (3, 4 and 3 * 4 words here)."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, 50)
    y = (x + rng.integers(0, 2, 50)) % 4
    y[0] = 3  # alphabet of Y: 4
    ref = nsb(x) + nsb(y) - nsb(np.c_[x, y])
    assert I.mutual_information(x, y, "nsb") == pytest.approx(ref, abs=1e-10)


def test_cmi_nsb_uses_the_product_alphabet_of_three_variables():
    rng = np.random.default_rng(3)
    x, z = rng.integers(0, 2, 60), rng.integers(0, 2, 60)
    y = (x & z) ^ (rng.random(60) < 0.2)
    ref = nsb(np.c_[x, z]) + nsb(np.c_[y, z]) - nsb(z) - nsb(np.c_[x, y, z])
    assert I.conditional_mutual_information(x, y, z, "nsb") == pytest.approx(ref, abs=1e-10)


def test_total_correlation_nsb_with_mixed_alphabets():
    """Columns with alphabets 2, 3 and 5: every marginal NSB entropy has its own alphabet."""
    rng = np.random.default_rng(4)
    a = rng.integers(0, 2, 80)
    b = (a + rng.integers(0, 2, 80)) % 3
    c = rng.integers(0, 5, 80)
    x = np.c_[a, b, c]
    x[0] = [1, 2, 4]
    ref = sum(nsb(x[:, i]) for i in range(3)) - nsb(x)
    assert I.total_correlation(x, "nsb") == pytest.approx(ref, abs=1e-10)


def test_total_and_dual_total_correlation_miller_madow_are_their_entropy_identities():
    """TC_MM = sum_i H_MM(X_i) - H_MM(X) (each entropy with its own (K-1)/2N term); the
    expected value is written out from np.unique counts."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, (50, 3))
    x[:, 2] = (x[:, 0] + (rng.random(50) < 0.3)) % 3
    ref = sum(h_rows(x[:, i], "miller_madow") for i in range(3)) - h_rows(x, "miller_madow")
    assert I.total_correlation(x, "miller_madow") == pytest.approx(ref, abs=1e-12)
    loo = sum(h_rows(np.delete(x, i, axis=1), "miller_madow") for i in range(3))
    dtc = loo - 2 * h_rows(x, "miller_madow")
    assert I.dual_total_correlation(x, "miller_madow") == pytest.approx(dtc, abs=1e-12)


def test_pairwise_binary_in_blocks_equals_one_block(monkeypatch):
    """Rows of blocks of 1, 7 and 40 units give the one-block matrix bitwise (the counts are
    whole numbers in float64), and match the pair-by-pair joint entropies."""
    import infodyn.information.measures as measures

    a = (np.random.default_rng(5).random((400, 60)) < 0.2).astype(np.uint8)
    for est in ("plugin", "miller_madow"):
        whole = pairwise_mutual_information(a, est)
        for rows in (1, 7, 40):
            monkeypatch.setattr(measures, "PAIRWISE_BLOCK_CELLS", rows * 60)
            np.testing.assert_array_equal(pairwise_mutual_information(a, est), whole)
        monkeypatch.undo()
        i, j = 3, 17
        want = mutual_information(a[:, i], a[:, j], estimator=est)
        assert abs(whole[i, j] - want) < 1e-12


def test_pairwise_binary_sums_blocks_of_samples_without_a_float64_copy(monkeypatch):
    """A float64 copy of all the words was held (8 bytes a sample and unit: 1.3 GB for 2000
    units of a long file); blocks of samples give the one-block matrix bitwise."""
    import tracemalloc

    import infodyn.information.measures as measures

    a = (np.random.default_rng(6).random((20_000, 50)) < 0.1).astype(np.uint8)
    whole = pairwise_mutual_information(a, "miller_madow")
    for samples in (1, 333, 1000):
        monkeypatch.setattr(measures, "PAIRWISE_SAMPLE_CELLS", samples * 50)
        tracemalloc.start()
        try:
            got = pairwise_mutual_information(a, "miller_madow")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_array_equal(got, whole)
        if samples == 1000:
            assert peak < 8 * a.size / 8, peak  # the float64 copy alone was 8 MB


def test_pairwise_mutual_information_checks_its_memory_first(monkeypatch):
    """60,000 units: numpy's MemoryError (26.8 GiB) after the work began, now one line first."""
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1G")
    with pytest.raises(MemoryPreflightError) as err:
        pairwise_mutual_information(np.zeros((10, 60000), np.uint8))
    assert str(err.value) == (
        "the pairwise mutual information of 60,000 units (60,000 x 60,000 float64, 10 samples) "
        "needs 40.4 GiB but 1 GiB is free under INFODYN_MEMORY_LIMIT; use fewer units (infodyn "
        "info: --max-units or --units)"
    )  # 4 x 10 x 60,000 + 4 x 60,000^2 (a float32 block and its product) + 8 x 60,000^2
    # + 17 x 8 x 2^20 bytes
