"""``infodyn info``: run directory contents and bad input."""

import json
import math
import warnings

import numpy as np
import pytest
from faultkit import cli_in_process, random_raster, record_calls, write_raster

from infodyn.data.spikes import SpikeTrain, save_spikes
from infodyn.errors import InputError
from infodyn.experiments.info_run import run_info


@pytest.fixture
def spike_file(tmp_path):
    rng = np.random.default_rng(0)
    t, n = 4000, 8
    common = rng.random((2, t)) < 0.05
    r = (rng.random((2, t, n)) < 0.03) | (common[..., None] & (rng.random((2, t, n)) < 0.6))
    r[..., 2] = r[..., 0] ^ r[..., 1]  # a synergistic unit
    path = tmp_path / "spikes.h5"
    save_spikes(path, SpikeTrain.from_dense(r.astype(np.uint8), dt=0.5))
    return path, r


def _run(capsys, monkeypatch, *args):
    """``infodyn ARGS`` in-process: (exit code, stdout, stderr)."""
    return cli_in_process(args, capsys)


def test_info_run_directory(spike_file, tmp_path):
    from infodyn.experiments.info_run import run_info
    from infodyn.information import entropy, mutual_information, spike_words

    path, _ = spike_file
    res = run_info(path, tmp_path / "run", bin_ms=1.0, max_population=6, n_shuffles=3)
    from infodyn.data.io import load_spikes

    w = spike_words(load_spikes(path), 2)
    assert res["n_samples"] == w.shape[0] == 4000
    assert res["entropy_bits"]["per_unit"][3] == pytest.approx(float(entropy(w[:, 3])))
    mi = np.load(tmp_path / "run" / "information.npz")["pairwise_mi_bits"]
    assert mi[0, 5] == pytest.approx(mutual_information(w[:, 0], w[:, 5]))
    pop = res["population"]
    assert len(pop["units"]) == 6
    assert pop["o_information"] == pytest.approx(
        pop["total_correlation"] - pop["dual_total_correlation"]
    )
    for name in ("entropies", "pairwise_mi", "population"):
        assert (tmp_path / "run" / "figures" / f"{name}.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["population"]["units"] == pop["units"]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["command"] == "info"


def test_info_cli_and_bad_input(spike_file, tmp_path, capsys, monkeypatch):
    path, _ = spike_file
    code, out, err = _run(
        capsys,
        monkeypatch,
        "info",
        str(path),
        "--out",
        str(tmp_path / "r"),
        "--shuffles",
        "0",
        "--max-population",
        "4",
    )
    assert code in (0, None), err
    assert "O-information" in out and (tmp_path / "r" / "results.json").exists()
    code, _, err = _run(
        capsys, monkeypatch, "info", str(path), "--out", str(tmp_path / "r2"), "--bin-ms", "0.7"
    )
    assert code == 2 and "multiple of the time step" in err and "Traceback" not in err
    code, _, err = _run(
        capsys, monkeypatch, "info", str(tmp_path / "nope.h5"), "--out", str(tmp_path / "r3")
    )
    assert code == 2
    code, _, err = _run(
        capsys,
        monkeypatch,
        "info",
        str(path),
        "--out",
        str(tmp_path / "r4"),
        "--estimator",
        "magic",
    )
    assert code == 2 and "estimator" in err


def test_info_base_option(spike_file, tmp_path, capsys, monkeypatch):
    """``--base e`` reports nats under keys that say so; a bad base is one line and exit 2."""
    import math

    from infodyn.data.io import load_spikes
    from infodyn.information import entropy, multivariate_summary, spike_words

    path, _ = spike_file
    args = ["info", str(path), "--out", str(tmp_path / "e"), "--shuffles", "0"]
    code, out, err = _run(capsys, monkeypatch, *args, "--max-population", "4", "--base", "e")
    assert code in (0, None), err
    assert "nats" in out and "bits" not in out
    res = json.loads((tmp_path / "e" / "results.json").read_text())
    assert res["base"] == math.e and res["unit"] == "nats" and "entropy_bits" not in res
    w = spike_words(load_spikes(path), 1)
    assert res["entropy_nats"]["per_unit"][3] == pytest.approx(float(entropy(w[:, 3], base=math.e)))
    assert res["entropy_nats"]["max_possible_per_unit"] == pytest.approx(math.log(2))
    pop = res["population"]
    ref = multivariate_summary(w[:, pop["units"]], base=math.e)
    assert pop["o_information"] == pytest.approx(ref["o_information"])
    arrays = np.load(tmp_path / "e" / "information.npz")
    assert arrays["pairwise_mi_nats"].shape == (8, 8)
    for bad in ("0", "1", "0.5", "-2", "nan", "inf", "two"):
        code, out, err = _run(capsys, monkeypatch, *args[:3], str(tmp_path / "bad"), "--base", bad)
        assert code == 2, (bad, err)
        assert "base must be a number > 1" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "bad").exists()


def test_info_on_one_unit_reports_no_pairwise_number(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(1)
    path = save_spikes(
        tmp_path / "one.h5", SpikeTrain.from_dense((rng.random((500, 1)) < 0.2).astype(np.uint8))
    )
    code, out, err = _run(capsys, monkeypatch, "info", str(path), "--out", str(tmp_path / "r"))
    assert code in (0, None), err
    assert "no pairs" in out
    res = json.loads((tmp_path / "r" / "results.json").read_text())
    assert res["pairwise_mi_bits"]["mean"] is None and res["pairwise_mi_bits"]["max"] is None
    assert any("no pairwise" in w for w in res["warnings"])
    assert res["entropy_bits"]["mean"] > 0.5  # the one unit's entropy is still reported


def test_info_refuses_no_spikes_and_warns_of_constant_units(tmp_path, capsys, monkeypatch):
    # a file without spikes reported 0 bits everywhere with no warning, exit 0
    silent = save_spikes(tmp_path / "silent.h5", SpikeTrain.from_dense(np.zeros((100, 5), "u1")))
    code, _, err = _run(capsys, monkeypatch, "info", str(silent), "--out", str(tmp_path / "s"))
    assert code == 2 and "silent.h5: the spike file holds no spikes" in err, err
    assert not (tmp_path / "s").exists()
    rng = np.random.default_rng(2)
    z = (rng.random((400, 4)) < 0.2).astype(np.uint8)
    z[:, 0], z[:, 3] = 1, 0  # spikes in every bin (entropy 0, as the silent unit 3)
    busy = save_spikes(tmp_path / "busy.h5", SpikeTrain.from_dense(z))
    code, _, err = _run(capsys, monkeypatch, "info", str(busy), "--out", str(tmp_path / "b"))
    assert code in (0, None), err
    assert "warning: 1 of 4 units never spike" in err and "1 of 4 units spike in every 1 ms" in err
    assert "--bin-ms" not in err  # a bin of one step cannot be made smaller
    code, _, err = _run(
        capsys, monkeypatch, "info", str(busy), "--out", str(tmp_path / "b2"), "--bin-ms", "2"
    )
    assert "spike in every 2 ms bin" in err and "a smaller --bin-ms separates" in err, err
    code, _, err = _run(
        capsys, monkeypatch, "info", str(busy), "--out", str(tmp_path / "u"), "--units", "3"
    )
    assert code == 2 and "busy.h5: the selected units hold no spikes" in err, err
    code, _, err = _run(  # a backwards range selected nothing and said so only later
        capsys, monkeypatch, "info", str(busy), "--out", str(tmp_path / "v"), "--units", "3-1"
    )
    assert code == 2 and "the range '3-1' runs backwards" in err, err


@pytest.mark.parametrize("command", ["info", "criticality"])
def test_seed_outside_its_range_is_one_line(command, spike_file, tmp_path, capsys, monkeypatch):
    # --seed -1 was an internal error (NumPy's "expected non-negative integer")
    path, _ = spike_file
    code, _, err = _run(
        capsys, monkeypatch, command, str(path), "--out", str(tmp_path / "r"), "--seed", "-1"
    )
    assert code == 2 and "--seed" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_undersampling_warnings_of_one_run_are_one_line(tmp_path, capsys, monkeypatch):
    # each estimate on the same words (the population, its shuffles) warned with its own counts:
    # nine near-identical lines naming a Python argument
    rng = np.random.default_rng(3)
    z = (rng.random((300, 12)) < 0.4).astype(np.uint8)  # 2^12 words, 300 samples
    path = save_spikes(tmp_path / "few.h5", SpikeTrain.from_dense(z))
    args = ["info", str(path), "--out", str(tmp_path / "r"), "--shuffles", "4"]
    code, _, err = _run(capsys, monkeypatch, *args)
    assert code in (0, None), err
    lines = [line for line in err.splitlines() if "undersampled" in line or "distinct" in line]
    assert len(lines) == 1, err
    assert "estimates are undersampled" in lines[0] and "--estimator nsb" in lines[0]


def test_info_cli_defaults_are_the_documented_ones(tmp_path, monkeypatch, capsys):
    """I1, I2 (tests/information/test_cli.py): README: ``[--max-population 16] [--shuffles 10]
    ... [--max-units 256]`` (docs/scale.md: files of more than 256 units use the 256 most
    active)."""
    fake = {
        "population": None,
        "unit": "bits",
        "base": 2.0,
        "pairwise_mi_bits": {"mean": 0.0},
        "entropy_bits": {"mean": 0.0},
        "n_units": 3,
        "n_samples": 10,
        "bin_ms": 1.0,
        "warnings": [],
    }
    calls = record_calls(monkeypatch, "infodyn.experiments.info_run", "run_info", fake)
    rc, out, err = cli_in_process(["info", tmp_path / "s.h5", "--out", tmp_path / "r"], capsys)
    assert rc == 0, err
    kw = calls[-1][1]
    assert (kw["max_population"], kw["n_shuffles"], kw["max_units"]) == (16, 10, 256)


def _info(path, out, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_info(path, out, **kw)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_shuffles": -1}, "n_shuffles must be >= 0"), ({"max_population": 2}, "max_population")],
)
def test_info_refuses_out_of_range_options(tmp_path, kwargs, message):
    """F1, F2: a negative shuffle count (NaN baselines) and a population of two (no
    O-information: it needs three units) are refused before any work."""
    path = write_raster(tmp_path / "s.h5", random_raster((300, 5), 0.2))
    with pytest.raises(InputError, match=message):
        _info(path, tmp_path / "r", **kwargs)
    assert not (tmp_path / "r").exists()


def test_info_max_units_keeps_the_most_active_units(tmp_path):
    """F3: with more units than max_units, the max_units MOST active units are analysed."""
    rng = np.random.default_rng(5)
    p = np.array([0.05, 0.4, 0.1, 0.3, 0.02, 0.2])  # most active: 1, 3, 5
    dense = (rng.random((2000, 6)) < p).astype(np.uint8)
    path = write_raster(tmp_path / "s.h5", dense)
    res = _info(path, tmp_path / "r", max_units=3, n_shuffles=0)
    assert res["units"] == [1, 3, 5] and res["n_units_file"] == 6


def test_info_shuffle_baseline_destroys_correlations(tmp_path):
    """F4, F5, F6: the shuffle null shuffles each unit on its own, so three copies of one unit
    (TC = 2 H(X) bits) have a null TC near 0; the corrected TC is TC minus the null mean; the
    plug-in MI bias under independence is 1 / (2 N ln 2) bits for binary units."""
    rng = np.random.default_rng(6)
    x = rng.random(2000) < 0.3
    dense = np.stack([x, x, x, rng.random(2000) < 0.3], axis=1).astype(np.uint8)
    path = write_raster(tmp_path / "s.h5", dense)
    res = _info(path, tmp_path / "r", n_shuffles=3)
    pop = res["population"]
    p = x.mean()
    h = -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
    assert pop["total_correlation"] == pytest.approx(2 * h, abs=0.01)
    null = pop["shuffle_null"]["total_correlation_mean"]
    assert 0 <= null < 0.02
    assert pop["total_correlation_corrected"] == pytest.approx(pop["total_correlation"] - null)
    assert res["pairwise_mi_bits"]["plugin_bias_under_independence"] == pytest.approx(
        1 / (2 * 2000 * math.log(2))
    )


def test_info_checks_the_pairwise_memory_before_reading_words(tmp_path, capsys, monkeypatch):
    """--max-units 60000 on a 60,000-unit file read the words (18 s, 5.5 GB) before numpy ran
    out of memory; now the need is one line before the file's words are read."""
    path = tmp_path / "wide.h5"
    save_spikes(path, SpikeTrain(times=[0, 5], units=[0, 59999], n_units=60000, n_steps=10))
    from infodyn.data.binning import SpikeSource

    calls = []
    real = SpikeSource.binned
    monkeypatch.setattr(SpikeSource, "binned", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1G")
    out = str(tmp_path / "r")
    code, _, err = _run(
        capsys, monkeypatch, "info", str(path), "--out", out, "--max-units", "60000"
    )
    assert code == 2 and calls == []
    assert "the pairwise mutual information of 60,000 units (60,000 x 60,000 float64, 10 " in err
    assert "use fewer units (infodyn info: --max-units or --units)" in err


def test_pairwise_memory_advice_names_what_is_too_large():
    # 2 units of 10^13 samples were told to use fewer units
    from infodyn.information.measures import require_pairwise_memory
    from infodyn.memory import MemoryPreflightError

    with pytest.raises(MemoryPreflightError, match="use fewer samples .*a coarser --bin-ms"):
        require_pairwise_memory(10**13, 2, extra=2 * 10**13)
    with pytest.raises(MemoryPreflightError, match="use fewer units"):
        require_pairwise_memory(1000, 10**6)


def test_a_file_without_spikes_is_not_told_to_use_a_smaller_bin(tmp_path):
    # one step of 1 ms: "choose a smaller --bin-ms" named an option no one gave, to no avail
    from infodyn.experiments.info_run import run_info

    path = tmp_path / "empty.npz"
    np.savez(path, times=np.array([], int), units=np.array([], int), n_units=1, n_steps=1)
    with pytest.raises(InputError, match="the recording is too short") as err:
        run_info(path, tmp_path / "out")
    assert "smaller --bin-ms" not in str(err.value)
