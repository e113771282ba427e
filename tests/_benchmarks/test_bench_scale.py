"""The scale benchmark's network builder, its conversions, and infodyn's engines on its network.

Tiny networks (N = 120, K = 20): the case file holds exactly the graph the benchmark promises
(fixed in-degree split into excitatory and inhibitory inputs, no autapses or multapses, Dale's
law), the conversions to the peers' forms reproduce it, infodyn's event and JAX engines (float64)
and the benchmark's independent bare Numba loop give the same raster on it, and the orchestrator
runs end to end. Brian2 and NEST need their own venvs and are checked by the benchmark itself.
The table's statistics (rate, CV of the ISIs, Fano factors), its synaptic-event counts, raster
comparisons and target marks are checked against counts written out here and known values.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "benchmarks" / "peers"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def peers():
    sys.path.insert(0, str(PEERS))
    try:
        yield {
            "case": _load("scale_case", PEERS / "scale_case.py"),
            "floor": _load("run_scale_floor", PEERS / "run_scale_floor.py"),
            "infodyn": _load("run_scale_infodyn", PEERS / "run_scale_infodyn.py"),
            "nest": _load("run_scale_nest", PEERS / "run_scale_nest.py"),
        }
    finally:
        sys.path.remove(str(PEERS))


@pytest.fixture(scope="module")
def tiny(peers, tmp_path_factory):
    sc = peers["case"]
    case = sc.regime_case("ai", 120, 20, n_steps=300, seed=3)
    path = tmp_path_factory.mktemp("scale") / "case.npz"
    sc.write_case(case, str(path))
    return sc.read_case(str(path))


def _reference_raster(peers, case, a):
    """The raster (times, units) of the benchmark's bare reference loop on the case ``a``."""
    sim = (a["values"], a["indices"], a["indptr"], float(a["j_ext"]), a["in_t"], a["in_u"])
    return peers["floor"].reference(*sim, case.n_steps, case.alpha, case.v_th)


def test_case_is_fixed_in_degree_ei_without_autapses(peers, tiny):
    sc = peers["case"]
    case, a = tiny
    pre, post, w = sc.pre_of(a["indptr"]), a["indices"], a["values"]
    assert a["values"].dtype == np.float32 and post.dtype == np.int32 and pre.size == case.nnz
    assert not np.any(pre == post)
    assert np.unique(pre.astype(np.int64) * case.n + post).size == pre.size  # no multapses
    exc = pre < case.n_exc
    np.testing.assert_array_equal(np.bincount(post[exc], minlength=case.n), case.k_exc)
    np.testing.assert_array_equal(np.bincount(post[~exc], minlength=case.n), case.k - case.k_exc)
    assert np.all(w[exc] == np.float32(case.j)) and np.all(w[~exc] == np.float32(-case.g * case.j))
    for i in range(case.n):  # posts ascending within each presynaptic row (CSR)
        row = post[a["indptr"][i] : a["indptr"][i + 1]]
        assert np.all(np.diff(row) > 0)
    t, u = a["in_t"], a["in_u"]
    assert t.min() >= 1 and np.all(np.diff(t) >= 0) and u.max() < case.n
    p_hat = t.size / (case.n * (case.n_steps - 1))
    assert abs(p_hat - case.p_ext) < 5 * np.sqrt(case.p_ext / (case.n * case.n_steps))


def test_impossible_size_is_refused(peers):
    sc = peers["case"]
    assert "needs more than" in sc.regime_case("ai", 1000, 1000).check()
    with pytest.raises(ValueError):
        sc.build_synapses(sc.regime_case("ai", 1000, 1000))


def test_conversions_reproduce_the_network(peers, tiny):
    from infodyn.network import SparseWeights

    sc = peers["case"]
    case, a = tiny
    params = peers["infodyn"].build_params(case, a)
    dense = np.zeros((case.n, case.n), np.float32)
    dense[sc.pre_of(a["indptr"]), a["indices"]] = a["values"]  # Brian2's and NEST's (i, j, w)
    np.testing.assert_array_equal(params["w_rec"].to_dense(), dense)
    assert params["w_rec"].values is a["values"]  # wrapped, not copied
    assert isinstance(params["w_in"], SparseWeights)
    np.testing.assert_array_equal(
        params["w_in"].to_dense(), np.float32(a["j_ext"]) * np.eye(case.n)
    )
    # NEST: per-unit generator times; step t's input at time t (ms) reaches step t
    times = peers["nest"].nest_input_times(case, a)
    back_t = np.concatenate([np.rint(ts).astype(int) for ts in times])
    back_u = np.concatenate([np.full(ts.size, j) for j, ts in enumerate(times)])
    order = np.lexsort((back_u, back_t))
    np.testing.assert_array_equal(back_t[order], a["in_t"])
    np.testing.assert_array_equal(back_u[order], a["in_u"])
    x = sc.input_chunk(a["in_t"], a["in_u"], 0, case.n_steps, case.n)
    assert x.sum() == a["in_t"].size and x[0].sum() == 0


def test_event_jax_and_bare_loop_agree_spike_for_spike(peers, tiny):
    """Event engine (sparse W_rec and W_in), JAX engine (float64) and the benchmark's own bare
    Numba loop: identical rasters on the benchmark network."""
    from infodyn.network.engine_jax import simulate_jax

    case, a = tiny
    inf = peers["infodyn"]
    params = inf.build_params(case, a)
    net = inf.network(case)
    t_ev, u_ev, _ = inf.run_event(net, case, a, params)
    assert 0.005 * case.n * case.n_steps < t_ev.size < 0.5 * case.n * case.n_steps
    x = peers["case"].input_chunk(a["in_t"], a["in_u"], 0, case.n_steps, case.n)
    z = simulate_jax(net, params, x[None], precision="float64", record=False)["z"][0]
    t_jx, u_jx = np.nonzero(z)
    np.testing.assert_array_equal(t_jx, t_ev)
    np.testing.assert_array_equal(u_jx, u_ev)
    t_ref, u_ref = _reference_raster(peers, case, a)
    np.testing.assert_array_equal(t_ref, t_ev)
    np.testing.assert_array_equal(u_ref, u_ev)
    # the plain-LIF update (record=False) and the general one (record=True): the same spikes
    from infodyn.network.engine_event import EventState, run_event_chunk

    state, got = EventState.zeros(case.n, 0), []
    run_event_chunk(net, params, x, state, record=True, on_spikes=lambda t, u: got.append((t, u)))
    np.testing.assert_array_equal(np.concatenate([g[0] for g in got]), t_ev)
    np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), u_ev)
    # dense 0/1 input rows instead of CSR rows: the same spikes
    t_dx, u_dx, _ = inf.run_event(net, case, a, params, sparse_x=False)
    np.testing.assert_array_equal(t_dx, t_ev)
    np.testing.assert_array_equal(u_dx, u_ev)
    # the sparse input weights give bitwise the dense input's raster in both engines
    dense_in = {**params, "w_in": params["w_in"].to_dense().astype(np.float64)}
    t_d, u_d, _ = inf.run_event(net, case, a, dense_in)
    np.testing.assert_array_equal(t_d, t_ev)
    np.testing.assert_array_equal(u_d, u_ev)
    z_d = simulate_jax(net, dense_in, x[None], precision="float64", record=False)["z"][0]
    np.testing.assert_array_equal(z_d, z)


def test_orchestrator_runs_and_reports(tmp_path, capsys):
    bench = _load("bench_scale", ROOT / "benchmarks" / "bench_scale.py")
    out = tmp_path / "r.json"
    argv = ["--sizes", "150:20", "1000:1000", "--regimes", "ai", "--n-steps", "300"]
    argv += ["--only", "event", "floor", "--json", str(out)]
    assert bench.main(argv) == 0
    text = capsys.readouterr().out
    rec = json.loads(out.read_text())["records"]
    assert len(rec) == 1  # (1000, 1000) cannot exist and is skipped
    res = rec[0]["results"]
    assert res["floor"]["vs_event"] == "identical"
    assert res["event"]["syn_events"] == res["floor"]["syn_events"] > 0
    assert "| ai | 150 | 20 | infodyn event engine" in text and "event / floor" in text
    # a merged earlier run keeps its simulators; this run's results win
    merged, _ = bench.merge([out], [{"case": rec[0]["case"], "results": {"event": {"x": 1}}}], None)
    assert merged[0]["results"]["event"] == {"x": 1} and "floor" in merged[0]["results"]


def test_nest_input_chunks_partition_the_input(peers, tiny):
    """The generators' spike times set chunk by chunk (steps t0 < t <= t1) are, together, the
    times set all at once: every input spike once, in its own chunk."""
    case, a = tiny
    nest_peer = peers["nest"]
    whole = nest_peer.nest_input_times(case, a)
    bounds = [0, 1, 70, 140, 141, 299, case.n_steps]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    parts = [nest_peer.nest_input_times(case, a, t0, t1) for t0, t1 in spans]
    for j in range(case.n):
        got = np.concatenate([p[j] for p in parts])
        np.testing.assert_array_equal(got, whole[j])
        for (t0, t1), p in zip(spans, parts, strict=True):
            assert np.all((p[j] > t0 * case.dt) & (p[j] <= t1 * case.dt))
    assert sum(ts.size for ts in whole) == a["in_t"].size


NEST_VENV = Path(os.environ.get("INFODYN_NEST_VENV", ROOT / ".venv-nest"))


@pytest.mark.skipif(not (NEST_VENV / "bin" / "python").exists(), reason="no NEST venv")
def test_nest_chunked_input_gives_the_same_raster(peers, tmp_path):
    """NEST run with its input handed over 70 steps at a time (Prepare, Run per chunk,
    Cleanup) gives exactly the raster of one Simulate with all the input set at once."""
    sc = peers["case"]
    case = sc.regime_case("ai", 120, 20, n_steps=300, seed=3)
    sc.write_case(case, str(tmp_path / "case.npz"))
    rasters = []
    for chunk in (0, 70):
        out = tmp_path / f"nest_{chunk}.npz"
        cmd = [str(NEST_VENV / "bin" / "python"), str(PEERS / "run_scale_nest.py")]
        cmd += [str(tmp_path / "case.npz"), "--spikes-out", str(out), "--repeats", "1"]
        subprocess.run([*cmd, "--input-chunk-steps", str(chunk)], check=True, capture_output=True)
        with np.load(out) as f:
            rasters.append((f["times"], f["units"]))
    (t0, u0), (t1, u1) = rasters
    assert t0.size > 0.005 * case.n * case.n_steps
    np.testing.assert_array_equal(t1, t0)
    np.testing.assert_array_equal(u1, u0)


BRIAN2_VENV = Path(os.environ.get("INFODYN_BRIAN2_VENV", ROOT / ".venv-brian2"))


@pytest.mark.skipif(not (BRIAN2_VENV / "bin" / "python").exists(), reason="no Brian2 venv")
def test_brian2_releasing_its_arrays_keeps_the_raster(peers, tiny, tmp_path):
    """Brian2 C++ standalone, its Python-side arrays freed before the binary runs (twice): the
    raster read back from the binary's results is the benchmark's reference loop's."""
    sc = peers["case"]
    case, a = tiny
    sc.write_case(case, str(tmp_path / "case.npz"))
    out = tmp_path / "b2.npz"
    cmd = [str(BRIAN2_VENV / "bin" / "python"), str(PEERS / "run_scale_brian2.py")]
    cmd += [str(tmp_path / "case.npz"), "--spikes-out", str(out), "--repeats", "2"]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(proc.stdout.splitlines()[-1].removeprefix("RESULT "))
    t_ref, u_ref = _reference_raster(peers, case, a)
    with np.load(out) as f:
        np.testing.assert_array_equal(f["times"], t_ref)
        np.testing.assert_array_equal(f["units"], u_ref)
    assert result["n_spikes"] == t_ref.size > 0 and len(result["cpu_s"]) == 2


def _stats_by_loop(times, units, n, n_steps, dt, bin_steps, sample):
    """raster_stats' numbers written out unit by unit, for comparison."""
    cvs, fanos = [], []
    n_bins = n_steps // bin_steps
    for u in sample:
        t = np.sort(times[units == u])
        if t.size >= 3:
            isi = np.diff(t)
            cvs.append(isi.std() / isi.mean())
        counts = [np.sum((t >= b * bin_steps) & (t < (b + 1) * bin_steps)) for b in range(n_bins)]
        if np.mean(counts) > 0:
            fanos.append(np.var(counts) / np.mean(counts))
    pop = [np.sum((times >= b * bin_steps) & (times < (b + 1) * bin_steps)) for b in range(n_bins)]
    return {
        "rate_hz": times.size / (n * n_steps * dt / 1000.0),
        "cv_isi": np.mean(cvs),
        "fano": np.mean(fanos),
        "pop_fano": np.var(pop) / np.mean(pop),
    }


def test_raster_stats_match_a_unit_by_unit_count(peers):
    rng = np.random.default_rng(5)
    n, n_steps = 40, 2_050  # the last 50 steps are no whole bin: left out of the Fano factors
    z = rng.random((n_steps, n)) < np.linspace(0.002, 0.05, n)  # rates 2-50 Hz
    z[:, :3] = False  # silent units
    z[:, 3:9] = False
    z[[100, 2_020], 3:9] = True  # two spikes: one interval, no CV
    times, units = np.nonzero(z)
    got = peers["case"].raster_stats(times, units, n, n_steps, dt=1.0, n_sample=25, seed=2)
    sample = np.sort(np.random.default_rng(2).choice(n, size=25, replace=False))
    assert np.isin(sample, np.arange(3)).any() and np.isin(sample, np.arange(3, 9)).any()
    want = _stats_by_loop(times, units, n, n_steps, 1.0, 100, sample)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key


def test_raster_stats_known_values(peers):
    """A regular train: CV 0, Fano 0 in bins of whole periods; Bernoulli trains with spike
    probability p per step: geometric intervals, CV sqrt(1 - p), count Fano factor 1 - p."""
    stats = peers["case"].raster_stats
    n, n_steps = 50, 20_000
    times = np.repeat(np.arange(0, n_steps, 10), n)
    units = np.tile(np.arange(n), n_steps // 10)
    reg = stats(times, units, n, n_steps, dt=0.5, bin_steps=100)
    assert reg["rate_hz"] == pytest.approx(200.0)  # one spike per 10 steps of 0.5 ms
    assert reg["cv_isi"] == 0.0 and reg["fano"] == 0.0
    p = 0.05
    z = np.random.default_rng(8).random((n_steps, n)) < p
    times, units = np.nonzero(z)
    ber = stats(times, units, n, n_steps, dt=1.0, bin_steps=100)
    assert abs(ber["cv_isi"] - np.sqrt(1 - p)) < 4 * ber["cv_isi_se"]
    assert abs(ber["fano"] - (1 - p)) < 4 * ber["fano_se"]
    assert ber["pop_fano"] == pytest.approx(1 - p, abs=0.2)  # independent units


def test_synaptic_events_counts_out_degrees_of_delivered_spikes(peers):
    indptr = np.array([0, 3, 3, 10, 12])  # out-degrees 3, 0, 7, 2
    times = np.array([0, 0, 1, 2, 4, 4])
    units = np.array([0, 2, 3, 2, 0, 1])
    # the spikes of the last step (t = 4 of 5) are delivered after the run: not counted
    assert peers["case"].synaptic_events(times, units, indptr, 5) == 3 + 7 + 2 + 7
    assert peers["case"].synaptic_events(times, units, indptr, 6) == 3 + 7 + 2 + 7 + 3 + 0


def test_raster_comparison_and_target_marks():
    bench = _load("bench_scale", ROOT / "benchmarks" / "bench_scale.py")
    a = (np.array([0, 0, 3, 5, 5]), np.array([1, 4, 2, 0, 3]))
    assert bench.compare(a, a) == "identical"
    b = (np.array([0, 0, 3, 5, 5]), np.array([1, 4, 2, 0, 2]))
    assert bench.compare(a, b) == "same until step 5"
    c = (np.array([0, 0, 3, 4]), np.array([1, 4, 2, 7]))  # an extra spike at 4, none at 5
    assert bench.compare(a, c) == "same until step 4"
    assert bench.compare(a, (a[0][:3], a[1][:3])) == "same until step 5"  # a prefix

    def rec(event_s, floor_s):
        res = {
            k: {"syn_events": 1000, "cpu_median_s": s}
            for k, s in (("event", event_s), ("floor", floor_s))
        }
        res["event"]["w_rec_bytes"] = 8080
        case = {"regime": "ai", "n": 10, "k": 100, "nnz": 1000}
        return {"case": case, "results": res}

    rows = bench.targets([rec(2.0, 1.0), rec(2.001, 1.0), rec(4.0, 1.0)], None).splitlines()[2:]
    assert "| 0.50x |" in rows[0]  # the target met: plain
    assert "| **0.500x** |" in rows[1]  # just below it: three decimals, never a bold "0.50x"
    assert "| **0.25x** |" in rows[2] and "| 8.08 |" in rows[2]


def test_gpu_script_runs_and_compares_rasters(capsys):
    """``benchmarks/gpu_scale.py`` end to end with the CPU standing in for the GPU: every
    float64 JAX raster is the event engine's. (On a CPU ``GPU_UNROLL`` is not used, so the
    ``--gpu-unroll`` rows differ only by label here; ``test_sparse.py`` takes the GPU branch.)"""
    saved = list(sys.path)  # the script puts benchmarks/peers on the path: taken off after
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        gpu = _load("gpu_scale", ROOT / "benchmarks" / "gpu_scale.py")
        argv = ["ai:300:20:200", "--device", "cpu", "--repeats", "1", "--gpu-unroll", "1", "4"]
        assert gpu.main(argv) == 0
    finally:
        sys.path[:] = saved
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ai:300")]
    assert len(rows) == 5 and "reference" in rows[0]
    f64 = [r for r in rows if "float64" in r]
    assert [r.split("|")[2].strip()[-8:] for r in f64] == ["unroll 1", "unroll 4"]
    assert all(r.rstrip(" |").endswith("identical") for r in f64)
