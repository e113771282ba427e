"""The criticality run (infodyn.experiments.criticality_run): no avalanches is said, not hidden."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from faultkit import random_raster, write_raster

from infodyn.errors import InputError
from infodyn.experiments.criticality_run import run_criticality


def test_no_avalanches_is_said_on_summary(tmp_path):
    from infodyn.data.spikes import SpikeTrain, save_spikes
    from infodyn.experiments.criticality_run import run_criticality

    dense = np.ones((300, 5), dtype=np.uint8)  # every bin active: no silent bins
    path = save_spikes(tmp_path / "busy.h5", SpikeTrain.from_dense(dense, dt=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "c", n_boot=0, avalanche_bin_ms="step")
    assert res["avalanches"]["n"] == 0
    note = res["avalanches"]["note"]
    assert "no avalanche" in note and "fewer units (--units" in note
    assert "--avalanche-bin-ms" not in note  # one-step bins cannot be made smaller
    assert any("no avalanche" in w for w in res["warnings"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "c2", n_boot=0, avalanche_bin_ms=2.0)
    assert "use a smaller --avalanche-bin-ms (or 'step')" in res["avalanches"]["note"]


def test_warnings_name_their_analysis_once(tmp_path):
    """The MR and naive estimators (and the size and duration fits) gave the same lines twice,
    with nothing to tell them apart."""
    from infodyn.data.spikes import SpikeTrain, save_spikes

    path = save_spikes(tmp_path / "busy.h5", SpikeTrain.from_dense(np.ones((300, 5)), dt=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "c", n_boot=0)
    constant = [w for w in res["warnings"] if "the activity is constant" in w]
    assert [w.split(":")[0] for w in constant] == ["MR branching ratio", "naive branching ratio"]
    assert len(set(res["warnings"])) == len(res["warnings"])
    sparse = (np.random.default_rng(0).random((3000, 10)) < 0.002).astype(np.uint8)
    path = save_spikes(tmp_path / "sparse.h5", SpikeTrain.from_dense(sparse, dt=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "c2", n_boot=0)
    few = [w.split(":")[0] for w in res["warnings"] if "too few to fit a power law" in w]
    assert few == ["avalanche sizes", "avalanche durations"]


def test_bin_widths_that_are_not_whole_steps_are_refused(tmp_path, monkeypatch):
    import pytest

    from infodyn.data.spike_reader import SpikeReader
    from infodyn.data.spikes import SpikeTrain, save_spikes
    from infodyn.errors import InputError
    from infodyn.experiments.criticality_run import run_criticality
    from infodyn.experiments.info_run import run_info

    rng = np.random.default_rng(0)
    train = SpikeTrain.from_dense((rng.random((400, 6)) < 0.1).astype(np.uint8), dt=0.5)
    path = save_spikes(tmp_path / "s.h5", train)
    passes = []
    monkeypatch.setattr(SpikeReader, "step_counts", lambda *a, **k: passes.append(a))
    for kwargs, option in (
        ({"bin_ms": 0.75}, "--bin-ms=0.75"),  # used to become 1 ms silently
        ({"avalanche_bin_ms": 1.2}, "--avalanche-bin-ms=1.2"),
    ):
        with pytest.raises(InputError, match=f"{option} must be a whole multiple .* dt=0.5"):
            run_criticality(path, tmp_path / "c", n_boot=0, **kwargs)
    assert passes == []  # refused before a pass over the file (it was after it)
    monkeypatch.undo()
    with pytest.raises(InputError, match="--bin-ms=0.75 must be a whole multiple"):
        run_info(path, tmp_path / "i", bin_ms=0.75)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "ok", n_boot=0, bin_ms=1.5, avalanche_bin_ms=1)
    assert res["branching"]["bin_ms"] == 1.5


def _crit(path, out, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_criticality(path, out, n_boot=0, **kw)


def test_criticality_refuses_a_file_without_spikes(tmp_path):
    """K1: a spike file with no spikes is one clear InputError, and no run folder."""
    path = write_raster(tmp_path / "silent.h5", np.zeros((300, 5)))
    with pytest.raises(InputError, match="holds no spikes"):
        _crit(path, tmp_path / "c")
    assert not (tmp_path / "c").exists()
    one = np.zeros((300, 5))
    one[100, 2] = 1  # was "the mean inter-event interval needs at least two spikes": no file
    np.savez(tmp_path / "one.npz", spikes=one.astype(np.uint8))  # a raster in an .npz
    for suffix in (".h5", ".npz"):
        path = tmp_path / f"one{suffix}"
        if suffix == ".h5":
            write_raster(path, one)
        said = f"one{suffix}: the spike file holds one spike, and --avalanche-bin-ms 'iei' "
        with pytest.raises(InputError, match=said):
            _crit(path, tmp_path / "c")
        assert not (tmp_path / "c").exists()
    # bins in ms: the run goes on (a near-silent sweep point keeps its results and notes)
    res = _crit(path, tmp_path / "c", bin_ms=4, avalanche_bin_ms=4)
    assert (tmp_path / "c" / "results.json").is_file() and res is not None


def test_criticality_sample_fraction_bounds_and_rounding(tmp_path):
    """K2, K10: sample_fraction lies in (0, 1] (1 = every unit) and k = round(f * n) units
    (0.29 * 100 is 28.999999999999996 in floating point: 29 units, not 28)."""
    path = write_raster(tmp_path / "s.h5", random_raster((400, 100), 0.05))
    assert _crit(path, tmp_path / "all", sample_fraction=1.0)["n_units"] == 100
    assert _crit(path, tmp_path / "f", sample_fraction=0.29)["n_units"] == 29
    # halves up: Python's round() took 2 of 5 units for 0.5 (4 of 9)
    five = write_raster(tmp_path / "five.h5", random_raster((400, 5), 0.2))
    assert _crit(five, tmp_path / "h", sample_fraction=0.5)["n_units"] == 3


def test_criticality_units_and_sample_fraction_are_exclusive(tmp_path):
    """K4: both a unit list and a sample fraction is refused (which one wins is not said)."""
    path = write_raster(tmp_path / "s.h5", random_raster((300, 10), 0.1))
    with pytest.raises(InputError, match="either units or sample_fraction"):
        _crit(path, tmp_path / "c", units="0-4", sample_fraction=0.5)


def test_criticality_units_of_a_streamed_h5_file(tmp_path):
    """K5, K9: --units restricts the streamed (HDF5) analysis to those units; units without
    spikes are refused."""
    dense = random_raster((500, 8), 0.1, seed=3)
    dense[:, 6] = 0
    path = write_raster(tmp_path / "s.h5", dense)
    res = _crit(path, tmp_path / "c", units="0-2")
    assert res["n_units"] == 3 and res["n_spikes"] == int(dense[:, :3].sum())
    with pytest.raises(InputError, match="the selected units hold no spikes"):
        _crit(path, tmp_path / "c6", units="6")


def test_global_rate_variance_is_in_hz_of_the_bin(tmp_path):
    """K6: the global-rate variance uses the branching bin (2 ms here), not the time step:
    r_t = A_t / (N * bin / 1000 s), s = Var_t(r_t) (ddof 0)."""
    dense = random_raster((400, 10), 0.1, seed=4)
    path = write_raster(tmp_path / "s.h5", dense)
    res = _crit(path, tmp_path / "c", bin_ms=2)
    counts = dense.reshape(200, 2, 10).sum(axis=(1, 2))  # 2-step bins
    rate_hz = counts / (10 * 2.0 / 1000.0)
    assert res["branching"]["bin_ms"] == 2
    assert res["global_rate_variance_hz2"] == pytest.approx(rate_hz.var(), rel=1e-12)


def test_crackling_relation_starts_at_the_duration_fit_xmin(tmp_path, monkeypatch):
    """K7 (tests/experiments/test_criticality_run.py): <S>(D) is fitted over the durations of
    the power-law tail, D >= the duration fit's xmin (avalanches.crackling_relation: 'd_min is
    typically the duration fit's xmin'), not from D = 1. Fits are stubbed: this checks the
    wiring only."""

    import infodyn.criticality as C

    def fake_fit(values, **kwargs):
        return SimpleNamespace(
            alpha=1.5, sigma=0.1, xmin=3.0, meaningful=True, n_tail=5, n=10,
            ccdf=lambda x: np.ones(np.shape(x)), to_dict=lambda: {"alpha": 1.5, "xmin": 3.0},
        )  # fmt: skip

    seen = []

    def fake_crackling(av, alpha_size, alpha_duration, d_min=1, **kwargs):
        seen.append(d_min)
        return SimpleNamespace(gamma_fitted=float("nan"), to_dict=lambda: {})

    monkeypatch.setattr(C, "fit_power_law", fake_fit)
    monkeypatch.setattr(C, "crackling_relation", fake_crackling)
    path = write_raster(tmp_path / "s.h5", random_raster((2000, 10), 0.02, seed=9))
    res = _crit(path, tmp_path / "c")
    assert res["avalanches"]["n"] >= 2 and seen == [3]


def test_a_spike_source_that_is_no_path_and_a_fraction_of_text_are_one_line(tmp_path):
    """None or a number as the spikes, and sample_fraction "0.5", were raw TypeErrors."""
    from infodyn.data import SpikeTrain

    for bad in (None, 3):
        with pytest.raises(InputError, match="spikes must be a file or folder path"):
            run_criticality(bad, tmp_path / "out")
    spikes = SpikeTrain.from_dense(np.random.default_rng(0).random((300, 5)) < 0.3)
    with pytest.raises(InputError, match="sample_fraction must lie in \\(0, 1\\], got '0.5'"):
        run_criticality(spikes, tmp_path / "out", sample_fraction="0.5")


def test_a_sample_of_units_with_one_spike_is_named_with_its_fraction(tmp_path):
    # "the mean inter-event interval needs at least two spikes", without a word of the sample
    dense = np.zeros((500, 1000), np.uint8)
    dense[10, :] = 1  # every unit spikes once
    path = write_raster(tmp_path / "s.h5", dense)
    with pytest.raises(InputError, match=r"the 1 unit of sample_fraction = 0.001 hold one spike"):
        _crit(path, tmp_path / "c", sample_fraction=0.001)


def test_a_header_of_a_billion_units_is_checked_before_the_column_map(tmp_path, monkeypatch):
    """A file of 2 spikes whose header claims 2^30 units: the map of units to columns took 24 GiB
    with np.full before any memory check, and the kernel killed the process."""
    import h5py

    from infodyn.experiments import criticality_run as cr
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "100M")
    with pytest.raises(MemoryPreflightError, match="the column map of 134,217,728 units"):
        cr._columns(2**27, None)
    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as h:
        spikes = h.create_group("spikes")
        spikes["times"], spikes["units"], spikes["trials"] = [1, 2], [0, 1], [0, 0]
        header = {"format": "infodyn-spikes", "version": 1, "dt": 1.0, "n_units": 2**30}
        header.update(n_steps=1000, n_trials=1, metadata="{}", sorted=1)
        h.attrs.update(header)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "out", n_boot=0)
    assert res["branching"]["own_share"] is None and res["n_units"] == 2**30


def test_own_share_left_out_of_an_unsorted_file_is_said(tmp_path, monkeypatch):
    """A file not in time order whose units x bins exceed the cap: own_share was null without
    a word, and with it the warning it may give (the loaded train had it)."""
    import h5py

    from infodyn.experiments import criticality_run as cr

    rng = np.random.default_rng(3)
    raster = (rng.random((3000, 20)) < 0.05).astype(np.uint8)
    t, u = np.nonzero(raster)
    order = rng.permutation(t.size)  # stored out of time order
    path = tmp_path / "unsorted.h5"
    with h5py.File(path, "w") as h:
        spikes = h.create_group("spikes")
        spikes["times"], spikes["units"] = t[order], u[order]
        spikes["trials"] = np.zeros(t.size, np.int64)
        header = {"format": "infodyn-spikes", "version": 1, "dt": 1.0, "n_units": 20}
        header.update(n_steps=3000, n_trials=1, metadata="{}", sorted=0)
        h.attrs.update(header)
    monkeypatch.setattr(cr, "OWN_SHARE_MAX_CELLS", 100)
    res = _crit(path, tmp_path / "out")
    assert res["branching"]["own_share"] is None
    assert any("own_share not computed" in w for w in res["warnings"])


def test_a_bin_longer_than_a_trial_is_refused_before_a_pass(tmp_path, monkeypatch):
    from infodyn.data.spike_reader import SpikeReader
    from infodyn.data.spikes import SpikeTrain, save_spikes

    train = SpikeTrain.from_dense((np.random.default_rng(0).random((400, 6)) < 0.1), dt=0.5)
    path = save_spikes(tmp_path / "s.h5", train)
    passes = []
    monkeypatch.setattr(SpikeReader, "step_counts", lambda *a, **k: passes.append(a))
    for option, kw in (
        ("--bin-ms", {"bin_ms": 300}),
        ("--avalanche-bin-ms", {"avalanche_bin_ms": 201}),
    ):
        with pytest.raises(InputError, match=f"{option} = .* ms is longer than a trial .200 ms"):
            run_criticality(path, tmp_path / "c", n_boot=0, **kw)
    assert passes == []


def test_a_run_stopped_in_its_analysis_leaves_no_folder_it_made(stopped_run_check):
    """Ctrl-C during the estimates left an empty --out folder (info and energy remove theirs)."""
    raster = (np.random.default_rng(0).random((800, 8)) < 0.1).astype(np.uint8)
    stopped_run_check(
        raster,
        "infodyn.criticality.branching_ratio",
        lambda path, out: run_criticality(path, out, n_boot=0),
    )


def test_constant_trials_pooled_in_the_fano_factor_are_said(tmp_path):
    """A silent trial is left out of m with a note, but was pooled into the Fano factor and the
    global-rate variance without one (358.5 -> 268.9 Hz^2 with a silent fourth trial)."""
    from infodyn.data.spikes import SpikeTrain, save_spikes

    raster = (np.random.default_rng(0).random((4, 2000, 20)) < 0.05).astype(np.uint8)
    raster[3] = 0  # a dead trial
    path = save_spikes(tmp_path / "dead.h5", SpikeTrain.from_dense(raster, dt=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "c", n_boot=0)
    said = "Fano factor and global-rate variance: 1 of 4 trials have constant activity"
    assert any(w.startswith(said) for w in res["warnings"]), res["warnings"]


def test_a_branching_figure_without_an_estimate_says_why():
    """Constant activity: empty axes titled "MR: not meaningful", no reason on them."""
    import warnings

    from infodyn.criticality.branching import branching_ratio
    from infodyn.experiments.criticality_run import branching_figure
    from infodyn.plotting import pyplot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mr = branching_ratio(np.full((1, 500), 5.0), method="mr", n_boot=0)
        naive = branching_ratio(np.full((1, 500), 5.0), method="naive", n_boot=0)
    ax = branching_figure(mr, naive).axes[0]
    assert ax.get_title() == "MR: not meaningful"
    (text,) = (t.get_text() for t in ax.texts)
    assert " ".join(text.split()) == "the activity is constant: the branching ratio is not defined"
    pyplot().close("all")


def test_a_file_of_padded_trials_says_so_at_every_read(tmp_path):
    """`convert` warned of the padding once; `criticality` on the converted file then reported
    an MR branching ratio of 0.995 from independent spikes (their fall to silence at a short
    trial's end) with results.json's warnings empty. Every read of the file now passes the note
    on, so each analysis keeps it."""
    import dataclasses
    import json

    from infodyn.data import SpikeTrain, load_spikes, save_spikes

    rng = np.random.default_rng(0)
    z = (rng.random((3, 900, 3)) < 0.04).astype(np.uint8)
    z[0, 500:] = z[1, 200:] = 0  # trials of 500, 200 and 900 steps, padded to 900
    meta = {"binning": {"dt_ms": 1.0, "trial_steps_range": [200, 900]}}
    st = SpikeTrain.from_dense(z)
    save_spikes(tmp_path / "s.h5", dataclasses.replace(st, metadata=meta))
    with pytest.warns(UserWarning, match="s.h5: its trials lasted 200 to 900 steps and were pad"):
        load_spikes(tmp_path / "s.h5")
    run_criticality(str(tmp_path / "s.h5"), tmp_path / "c", n_boot=10)
    kept = json.loads((tmp_path / "c" / "results.json").read_text())["warnings"]
    assert sum("its trials lasted 200 to 900 steps" in w for w in kept) == 1, kept
    save_spikes(tmp_path / "equal.h5", st)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_spikes(tmp_path / "equal.h5")


def test_the_too_few_avalanches_note_fits_its_cause():
    """One spike in 1,000 bins (99.9 % silent) was told that an avalanche needs silent bins
    around it and to use fewer units: the opposite of what it lacks."""
    from infodyn.experiments.criticality_run import _no_avalanches_note

    quiet = np.zeros(1000)
    quiet[500] = 1
    note = _no_avalanches_note(SimpleNamespace(counts=quiet, bin_steps=1, bin_ms=1.0), 1)
    assert note == (
        "only one avalanche: 100 % of the 1 ms bins are silent, too little activity to fit: "
        "use a longer recording or more units"
    )
    busy = np.ones(1000)
    busy[[0, 999]] = 0
    note = _no_avalanches_note(SimpleNamespace(counts=busy, bin_steps=4, bin_ms=4.0), 1)
    assert "0 % of the 4 ms bins are silent and an avalanche needs silent bins" in note
    assert "a smaller --avalanche-bin-ms (or 'step'), fewer units" in note
    assert _no_avalanches_note(SimpleNamespace(counts=busy, bin_steps=1, bin_ms=1.0), 2) is None
