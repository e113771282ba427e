"""Bad input to the network API: one InputError each (an adversarial review's findings)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sps

import infodyn as idn
from infodyn.errors import InputError
from infodyn.network import (
    LIF,
    StimulusSet,
    direct_current,
    encode_patches,
    filtered_noise_rates,
    filtered_noise_spikes,
    poisson_spikes,
    simulate,
    simulate_spikes,
    simulate_to_file,
)

NET = LIF(n_in=4, n_rec=20, n_out=1, rec_scale=2.0, in_scale=3.0)
PARAMS = NET.init(0)
X = (np.random.default_rng(0).random((300, 4)) < 0.3).astype(float)


def test_negative_chunk_steps_is_refused_not_an_empty_run(tmp_path):
    # range(0, 300, -5) is empty: 0 spikes over a run that claimed 300 steps
    for bad in (-5, 0, 2.5):
        with pytest.raises(InputError, match="chunk_steps must be a whole number >= 1"):
            simulate_spikes(NET, PARAMS, X, chunk_steps=bad)
        with pytest.raises(InputError, match="chunk_steps must be a whole number >= 1"):
            simulate_to_file(NET, PARAMS, X, 300, tmp_path / "s.h5", chunk_steps=bad)
    assert not (tmp_path / "s.h5").exists()
    with pytest.raises(InputError, match="n_steps must be a whole number"):
        simulate_to_file(NET, PARAMS, X, 2.5, tmp_path / "s.h5")
    full = simulate_spikes(NET, PARAMS, X, chunk_steps=7)
    assert full.n_spikes == simulate_spikes(NET, PARAMS, X).n_spikes > 0


def test_one_trial_at_a_time_for_the_chunked_runs():
    with pytest.raises(InputError, match=r"x must be \(T, n_in\): one trial"):
        simulate_spikes(NET, PARAMS, X[None])
    # a callable returning a batch used its first entry only
    with pytest.raises(InputError, match=r"must return a \(steps, n_in\) chunk of one trial"):
        simulate_spikes(NET, PARAMS, lambda a, b: np.stack([X[a:b], X[a:b]]), n_steps=300)
    assert simulate_spikes(NET, PARAMS, X.tolist()).n_spikes > 0  # a list: AttributeError before


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(p_connect=0.1),  # dense and all-to-all, without a word
        dict(connectivity="ei", p_connect=0.1),  # E/I draws from p_ee..p_ii
        dict(connectivity="sparse", p_ee=1.0),
        dict(connectivity="sparse", p_connect=0.2, inh_factor=2.0),
    ],
)
def test_options_of_another_connectivity_are_refused(kwargs):
    with pytest.raises(InputError, match="is for connectivity|are for connectivity"):
        LIF(n_in=3, n_rec=50, **kwargs)


def test_sparse_without_k_in_or_p_connect_is_refused():
    """connectivity = "sparse" alone drew every synapse (p_connect's default 1.0): 4 x 10^8
    synapses and 9.8 GB at 2 x 10^4 units, without a word."""
    with pytest.raises(InputError, match=r"'sparse' needs k_in .* or p_connect .* all 24,995,000"):
        LIF(n_in=3, n_rec=5000, connectivity="sparse")
    for given, nnz in (({"p_connect": 1.0}, 2450), ({"k_in": 5}, 250)):
        net = LIF(n_in=3, n_rec=50, connectivity="sparse", weights="sparse", **given)
        assert net.init(seed=0)["w_rec"].nnz == nnz
    # a network written back (a run's resolved config, a checkpoint's) names p_connect
    net = LIF(n_in=3, n_rec=50, connectivity="sparse", p_connect=0.2)
    assert LIF(**net.model_dump()) == net


def test_ei_connection_probabilities_and_k_in_are_refused_together():
    """k_in draws frac_exc of the K from the E units: p_ee..p_ii were ignored without a word."""
    with pytest.raises(InputError, match=r"give p_ee, p_ii or k_in, not both"):
        LIF(n_in=5, n_rec=100, connectivity="ei", k_in=5, p_ee=0.3, p_ii=0.9)
    LIF(n_in=5, n_rec=100, connectivity="ei", k_in=5, p_ee=0.16)  # the default: as if not given
    LIF(n_in=5, n_rec=100, connectivity="ei", p_ee=0.3)  # without k_in they are the graph


def test_sparse_weights_take_float_dtypes_and_real_values():
    from infodyn.network import SparseWeights

    w = np.eye(3)
    for bad in ("foo", "int32"):  # a raw TypeError; int32 silently became float64
        with pytest.raises(InputError, match="dtype must be float32 or float64"):
            SparseWeights.from_dense(w, dtype=bad)
    with pytest.raises(InputError, match="real numbers"):  # the imaginary part was dropped
        SparseWeights.from_dense(w * 1j)
    assert SparseWeights.from_dense(w, dtype="float32").dtype == np.float32


def test_precision_is_checked_for_every_engine():
    with pytest.raises(InputError, match="precision must be one of 'float32', 'float64'"):
        NET.simulate(PARAMS, X, engine="event", precision="float16")  # was accepted


def test_weights_must_be_a_dict_of_real_numbers():
    with pytest.raises(InputError, match="params must be a dict"):
        NET.simulate(None, X)
    for bad in (np.full((4, 20), None), PARAMS["w_in"] * 1j, np.full((4, 20), "a")):
        with pytest.raises(InputError, match=r"params\['w_in'\] must hold real numbers"):
            NET.simulate({**PARAMS, "w_in": bad}, X)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # clipped to silence or to a spike every step before
        (lambda: StimulusSet(np.full((2, 50, 3), np.nan)), "NaN"),
        (lambda: StimulusSet(np.full((2, 50, 3), -50.0)), ">= 0 Hz"),
        (lambda: StimulusSet(np.full((2, 50, 3), 5000.0)), "exceeds one spike per step"),
        (lambda: StimulusSet(np.full((2, 50), 5.0)), r"\(K, T, n_in\)"),
        (lambda: encode_patches(np.array([[0.0, np.nan, 1.0]]), 5.0, 10.0), "NaN"),
        (lambda: encode_patches(np.zeros((2, 3)), -5.0, 10.0), "finite rates >= 0"),
        (lambda: poisson_spikes(50.0, 100, n_in=3, dt=float("nan")), "dt must be a finite"),
        (lambda: poisson_spikes(np.array([10.0, 20.0]), 5, n_in=4), "n_in=4 but rates give 2"),
        (lambda: filtered_noise_rates(100, 2, dt=-1.0), "dt must be"),  # shape (0,) before
        (lambda: filtered_noise_rates(100, 2, dt=0.0), "dt must be"),  # ZeroDivisionError
        (lambda: filtered_noise_rates(100, 2, kernel_ms=1.0), "kernel_ms"),  # a constant
        (lambda: filtered_noise_rates(100, 2, mean_rate=np.nan), "mean_rate"),
        (lambda: filtered_noise_spikes(100, 2, seed=None), "seed must be"),  # TypeError
        (lambda: poisson_spikes([], 10), "rates is empty"),  # a (10, 0) input, unsaid
        (lambda: poisson_spikes(np.zeros((10, 0)), 10), "rates is empty"),
        (lambda: idn.network.direct_current([], 5), "amplitude is empty"),  # (5, 0)
    ],
)
def test_stimulus_makers_refuse_what_they_clipped_or_mangled(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_a_callable_chunk_of_the_wrong_length_is_refused():
    with pytest.raises(InputError, match=r"input for steps 0\.\.100 has 99 rows"):
        idn.network.simulate_spikes(
            NET, PARAMS, lambda a, b: X[a : b - 1], n_steps=300, chunk_steps=100
        )


def test_an_input_longer_than_the_run_is_refused(tmp_path):
    """simulate_to_file ran the first n_steps rows of a longer x and said nothing."""
    with pytest.raises(InputError, match=r"x has 300 steps for a run of n_steps=100"):
        idn.network.simulate_to_file(NET, PARAMS, X[:300], 100, tmp_path / "s.h5")
    with pytest.raises(InputError, match=r"x\[:100\]"):
        idn.network.simulate_spikes(NET, PARAMS, X[:300], n_steps=100)
    assert not (tmp_path / "s.h5").exists()


def test_a_callable_without_n_steps_is_refused_by_name():
    with pytest.raises(InputError, match="n_steps is needed when x is a function"):
        idn.network.simulate_spikes(NET, PARAMS, lambda a, b: X[a:b])


def test_simulate_spikes_metadata_names_the_network_and_engine():
    train = idn.network.simulate_spikes(NET, PARAMS, X, metadata={"run": 7})
    assert train.metadata["engine"] == "event" and train.metadata["run"] == 7
    assert train.metadata["network"]["n_rec"] == 20


def test_empty_batches_and_empty_sparse_inputs_are_refused():
    with pytest.raises(InputError, match="empty"):
        NET.simulate(PARAMS, np.zeros((0, 10, 4)))
    with pytest.raises(InputError, match="empty"):
        NET.simulate(PARAMS, sps.csr_array((0, 4)), engine="event")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: direct_current(0.5, -1, n_in=2), "n_steps must be a whole number"),  # ValueError
        (lambda: direct_current(0.5, 2.5, n_in=2), "n_steps must be a whole number"),  # TypeError
        (lambda: direct_current(0.5, 0, n_in=2), "n_steps must be a whole number"),  # (0, 2)
        (lambda: direct_current([0.1, 0.2], 4, n_in=3), "n_in=3 but amplitude gives 2"),  # ignored
        (lambda: direct_current(np.ones((2, 3)), 4), "scalar or \\(n_in,\\)"),  # ValueError
        (lambda: poisson_spikes(10.0, 5, n_in=2, batch=2.5), "batch must be a whole number"),
        (lambda: StimulusSet.constant(2, 10, 2).trials(2.5, seed=0), "n_per_stimulus"),  # 2 each
    ],
)
def test_encoders_refuse_bad_counts_with_one_error(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_the_event_engine_takes_weights_as_nested_lists_as_the_jax_engine_does():
    """A w_rec given as nested lists ran on the JAX engine and was an AttributeError ('list'
    object has no attribute 'shape') on the event engine; sparse weights keep their shape."""
    net = idn.network.LIF(n_in=3, n_rec=5, n_out=2)
    p = net.init(seed=0)
    x = (np.random.default_rng(0).random((50, 3)) < 0.3).astype(float)
    listed = dict(p, w_rec=np.asarray(p["w_rec"]).tolist())
    expected = idn.network.simulate(net, p, x, engine="event").z
    np.testing.assert_array_equal(idn.network.simulate(net, listed, x, engine="event").z, expected)
    sparse = idn.network.LIF(n_in=3, n_rec=20, n_out=2, connectivity="sparse", k_in=4)
    ps = sparse.init(seed=0)
    assert idn.network.simulate(sparse, ps, x, engine="event").z.shape == (50, 20)


@pytest.mark.parametrize("n_rec, frac_exc, n_exc", [(5, 0.01, 0), (5, 0.99, 5), (1, 0.8, 1)])
def test_an_ei_network_needs_both_kinds_of_unit(n_rec, frac_exc, n_exc):
    """frac_exc = 0.01 of 5 units made every unit inhibitory, and 0.99 every unit excitatory,
    without a word: the rounded split is refused, naming it."""
    with pytest.raises(InputError, match=f"gives {n_exc} excitatory units"):
        idn.network.LIF(n_in=2, n_rec=n_rec, connectivity="ei", frac_exc=frac_exc)
    assert idn.network.LIF(n_in=2, n_rec=5, connectivity="ei").n_exc == 4


@pytest.mark.parametrize("engine", ["event", "jax"])
def test_metadata_that_is_not_a_table_is_refused(engine, tmp_path):
    # simulate_spikes(metadata="str"): "'str' object is not a mapping" from inside the run
    with pytest.raises(InputError, match="metadata must be a table"):
        simulate_spikes(NET, PARAMS, X, engine=engine, metadata="str")
    with pytest.raises(InputError, match="metadata must be a table"):
        simulate_to_file(NET, PARAMS, X, 300, tmp_path / "s.h5", engine=engine, metadata=[1])
    with pytest.raises(InputError, match="metadata must be a table"):
        NET.simulate(PARAMS, X, engine=engine).spike_train(metadata="str")
    kept = simulate_spikes(NET, PARAMS, X, engine=engine, metadata={"run": 3})
    assert kept.metadata["run"] == 3 and kept.metadata["engine"] == engine


@pytest.mark.parametrize("dtype", ["foo", "int8", "complex128", object])
def test_sparse_weights_cast_only_to_a_float_type(dtype):
    w = idn.network.SparseWeights.from_dense(np.array([[0.0, 1.5], [-2.5, 0.0]]))
    with pytest.raises(InputError, match="dtype must be float32 or float64"):
        w.astype(dtype)  # int8 cut the weights to whole numbers; "foo" was a raw TypeError
    assert w.astype(np.float32).values.dtype == np.float32


def test_flags_are_true_or_false():
    # read by truthiness: "no" recorded the potentials, poisson_spikes' "no" froze the draw
    with pytest.raises(InputError, match="record must be true or false"):
        idn.network.simulate(NET, PARAMS, X, record="no")
    with pytest.raises(InputError, match="frozen must be true or false"):
        poisson_spikes(np.full(3, 10.0), 20, batch=2, frozen="no")
    with pytest.raises(InputError, match="shared must be true or false"):
        filtered_noise_rates(50, 3, shared="no")


def test_recurrent_current_checks_pre():
    w = np.array([[0.0, 0.5, 0.0], [0.2, 0.0, 0.7], [0.0, 0.3, 0.0]])
    sw = idn.network.SparseWeights.from_dense(w)
    z = np.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(idn.network.recurrent_current(z, sw), z @ w)
    for pre in (0, True, np.zeros(sw.nnz)):  # 0 spread unit 0's activity over every synapse
        with pytest.raises(InputError, match="pre must be the presynaptic unit"):
            idn.network.recurrent_current(z, sw, pre)
    with pytest.raises(InputError, match="pre .presynaptic indices. is for SparseWeights"):
        idn.network.recurrent_current(z, w, "zzz")  # ignored for dense weights


@pytest.mark.parametrize("rates", ["3", True, [[1.0, 2.0], [3.0]]])
def test_poisson_rates_must_be_numbers(rates):
    with pytest.raises(InputError, match="filtered noise of 50 steps x 3 inputs and its kernel"):
        filtered_noise_rates(50, 3, kernel_ms=1e300)  # "Maximum allowed size exceeded"
    with pytest.raises(InputError, match="amplitude must be real numbers"):
        direct_current("3", 5, 3)  # a current of 3
    with pytest.raises(InputError, match="mean_rate must be a finite number >= 0, got '3'"):
        filtered_noise_rates(50, 3, mean_rate="3")  # np.isfinite("3"): a raw TypeError
    with pytest.raises(InputError, match="input x must be a rectangular array"):
        simulate_spikes(NET, PARAMS, [[0.0] * 4, [0.0]])  # NumPy's ValueError
    # np.asarray(..., float) read "3" as 3 Hz and True as 1 Hz
    with pytest.raises(InputError, match="rates must be numbers"):
        poisson_spikes(rates, 10, 3)
    with pytest.raises(InputError, match="dt must be a finite number > 0 ms, got True"):
        poisson_spikes(np.full(3, 5.0), 10, dt=True)


def test_stimulus_sets_take_a_whole_number_of_stimuli():
    from infodyn.network import StimulusSet

    with pytest.raises(InputError, match="n_stimuli must be at most"):
        StimulusSet.filtered_noise(10**30, 10, 3)  # a loop for ever
    with pytest.raises(InputError, match="n_stimuli must be a whole number >= 2"):
        StimulusSet.constant(2.5, 10, 3)


def test_sparse_weights_from_scipy_with_a_list_and_to_float16():
    import scipy.sparse as sps

    dense = np.array([[0.0, 1.5], [2.0, 0.0]])
    w = idn.network.SparseWeights.from_dense(sps.csr_array(dense))  # "got shape ()"
    np.testing.assert_array_equal(w.to_dense(), dense)
    assert w.with_values([3, 4]).nnz == 2  # a list was kept: nnz and repr failed later
    with pytest.raises(InputError, match="dtype must be float32 or float64"):
        w.astype("float16")  # from_coo and the engines refuse it


@pytest.mark.parametrize("engine", ["jax", "event"])
def test_trace_memory_advice_offers_record_false_only_when_it_was_not_given(engine, monkeypatch):
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1M")
    x = np.zeros((50_000, 4))  # 8 MB of spikes alone
    with pytest.raises(MemoryPreflightError, match="record=False"):
        idn.network.simulate(NET, PARAMS, x, engine=engine, record=True)
    with pytest.raises(MemoryPreflightError) as info:
        idn.network.simulate(NET, PARAMS, x, engine=engine, record=False)
    assert "record=False" not in str(info.value) and "fewer steps" in str(info.value)


def test_an_ei_in_degree_without_inhibitory_inputs_is_refused():
    # k_in=1 gave every unit one excitatory input and no inhibitory one, without a word
    with pytest.raises(InputError, match="needs 1 excitatory . 0 inhibitory .* needs both kinds"):
        LIF(n_rec=20, connectivity="ei", k_in=1)
    net = LIF(n_rec=20, connectivity="ei", k_in=3)  # 2 E + 1 I
    assert np.all(net.init(0)["w_rec"].in_degrees() == 3)
    # "there are 16 excitatory and 4 inhibitory" for 4 inhibitory inputs: the unit's own kind
    # has one fewer other unit
    why = "at most 15 excitatory and 3 inhibitory other units; the largest k_in that fits is 17"
    with pytest.raises(InputError, match=f"k_in=18 needs 14 excitatory . 4 inhibitory .*{why}"):
        LIF(n_rec=20, connectivity="ei", k_in=18)
    assert np.all(LIF(n_rec=20, connectivity="ei", k_in=17).init(0)["w_rec"].in_degrees() == 17)


@pytest.mark.parametrize("net", ["a", {}, None])
def test_what_is_not_a_network_is_refused(net, tmp_path):
    # an AttributeError deep inside the run ("'str' object has no attribute 'validate_params'")
    for run in (
        lambda: idn.network.simulate(net, PARAMS, X),
        lambda: simulate_spikes(net, PARAMS, X),
        lambda: simulate_to_file(net, PARAMS, X, 300, tmp_path / "s.h5"),
    ):
        with pytest.raises(InputError, match="net must be an infodyn network"):
            run()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda N: N.StimulusSet.constant(2, "3", 4), "n_steps must be a whole number"),
        (lambda N: N.StimulusSet.constant(2, 10, 4, max_rate="a"), "max_rate and dt must be"),
        (lambda N: N.StimulusSet.filtered_noise(2, 10, 3, seed="a"), "seed must be a whole"),
        (lambda N: N.StimulusSet(np.array("a")), "rates_hz must be real numbers"),
        (lambda N: N.LIF(n_rec=4).constrain({}), "params must be net.init"),  # KeyError 'w_rec'
        (lambda N: N.SparseWeights.from_dense(np.eye(2)).mask_dense(3), r"w must have shape"),
    ],
)
def test_network_objects_check_what_they_are_given(call, message):
    with pytest.raises(InputError, match=message):
        call(idn.network)


def test_a_chunked_run_reads_only_the_chunks_of_a_lazy_input(tmp_path):
    # np.asarray of an h5py-like input, to check its dimensions, loaded it whole
    class Lazy:
        ndim, shape = 2, X.shape

        def __getitem__(self, key):
            return X[key]

        def __array__(self, *a, **k):
            raise AssertionError("the whole input was read")

    lazy = simulate_spikes(NET, PARAMS, Lazy(), engine="event", chunk_steps=100)
    whole = simulate_spikes(NET, PARAMS, X, engine="event", chunk_steps=100)
    np.testing.assert_array_equal(lazy.times, whole.times)


def test_a_check_of_the_whole_config_is_not_named_twice():
    # "invalid LIF config: LIF: p_connect is for connectivity 'sparse'..."
    with pytest.raises(InputError, match="^invalid LIF config: p_connect is for connectivity"):
        LIF(n_rec=20, p_connect=0.5)
    with pytest.raises(InputError, match="^invalid LIF config: tau_m: "):  # a field keeps its name
        LIF(n_rec=20, tau_m=-1.0)


def test_a_trace_and_its_spike_train_name_their_engine_and_precision():
    """Trace kept no precision and spike_train() metadata was {}, where simulate_spikes names
    both; np.dtype("float32") went into simulate_spikes' metadata as an object."""
    for engine, precision, name in (("jax", "float32", "float32"), ("event", "float32", "float64")):
        trace = simulate(NET, PARAMS, X, engine=engine, precision=precision)
        assert trace.precision == name
        meta = trace.spike_train(metadata={"run": 1}).metadata
        assert meta == {"engine": engine, "precision": name, "run": 1}
    kept = simulate_spikes(NET, PARAMS, X, engine="jax", precision=np.dtype("float32"))
    assert kept.metadata["precision"] == "float32"


def test_simulate_under_a_jax_transformation_says_what_to_use():
    """Under jit or vmap the input, under grad the weights, are tracers: the message said "must
    be a rectangular array of numbers ..., got JitTracer(...)", or a raw
    TracerArrayConversionError."""
    import jax
    import jax.numpy as jnp

    net = idn.network.LIF(n_in=3, n_rec=10)
    p, x = net.init(seed=0), np.zeros((20, 3))
    calls = {
        "jit": lambda: jax.jit(lambda x: idn.network.simulate(net, p, x).z)(x),
        "vmap": lambda: jax.vmap(lambda x: idn.network.simulate(net, p, x).z)(x[None]),
        "grad": lambda: jax.grad(
            lambda w: jnp.sum(idn.network.simulate(net, {**p, "w_in": w}, x).z)
        )(jnp.asarray(p["w_in"])),
    }
    for call in calls.values():
        with pytest.raises(InputError, match="traced JAX value.*engine_jax.run"):
            call()


def test_init_refuses_weights_that_overflow():
    """Finite settings whose product is not: v_th = 1e308 drew inf weights (a RuntimeWarning),
    later blamed on params the user never wrote."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one error, no NumPy overflow warning before it
        for kw, precision, key in [
            (dict(v_th=1e308), "float64", "w_in"),
            (dict(v_th=1e300, rec_scale=1e10), "float64", "w_rec"),
            (dict(v_th=1e30, in_scale=1e10), "float32", "w_in"),
        ]:
            with pytest.raises(InputError, match=f"the drawn {key} overflows {precision}"):
                idn.network.LIF(n_in=5, n_rec=50, **kw).init(precision=precision)
        net = idn.network.LIF(n_in=5, n_rec=50, v_th=1e30, in_scale=1e10)
        assert np.all(np.isfinite(net.init(precision="float64")["w_in"]))  # fits float64


def test_the_jax_runs_input_and_weights_must_share_a_dtype():
    """float32 x with float64 weights was lax.scan's "carry input and carry output must have
    equal types" traceback."""
    import jax
    import jax.numpy as jnp

    from infodyn.network.dynamics import Constants
    from infodyn.network.engine_jax import run

    with jax.enable_x64(True):
        for extra in ({}, {"connectivity": "sparse", "k_in": 3}):
            net = idn.network.LIF(n_in=3, n_rec=10, **extra)
            p, beta = net.init(seed=0), jnp.asarray(net.beta_vector())
            z = run(Constants.of(net), p, beta, jnp.zeros((1, 5, 3), jnp.float64))["z"]
            assert z.dtype == jnp.float64
            with pytest.raises(InputError, match="share one dtype, got float32, float64"):
                run(Constants.of(net), p, beta, jnp.zeros((1, 5, 3), jnp.float32))


@pytest.mark.parametrize("shape", [(0, 3), (2, 0, 3)])
def test_an_empty_input_is_named_by_the_shape_given(shape):
    # a (0, 3) input was reported as "shape (1, 0, 3)", the batch the engines add
    net = idn.network.LIF(n_in=3, n_rec=4)
    with pytest.raises(InputError, match=rf"input x is empty \(shape \({shape[0]}, {shape[1]}"):
        net.simulate(net.init(0), np.ones(shape))


def test_a_float32_run_whose_traces_overflow_says_so():
    """Finite float32 weights drove the readout past float32's range: 283 entries of y were
    inf in silence (the float64 run's were finite, up to 1.2e39)."""
    import warnings

    net = idn.network.LIF(n_in=50, n_rec=50, n_out=2, tau_out=1e6)
    params = {k: np.abs(v) * 1e36 for k, v in net.init(seed=0).items()}
    x = idn.network.poisson_spikes(200.0, 200, n_in=50, seed=1)
    with pytest.warns(RuntimeWarning, match=r"the float32 run's y overflowed to inf .*'float64'"):
        trace = idn.network.simulate(net, params, x, engine="jax", precision="float32")
    assert not np.all(np.isfinite(trace.y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wide = idn.network.simulate(net, params, x, engine="jax", precision="float64")
        idn.network.simulate(net, net.init(seed=0), x, engine="jax", precision="float32")
    assert np.all(np.isfinite(wide.y)) and np.array_equal(wide.z, trace.z)
