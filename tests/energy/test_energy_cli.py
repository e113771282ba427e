"""``infodyn energy`` through a subprocess: run directory, results, bad input with exit code 2."""

import json
import math
import warnings

import numpy as np
import pytest
from faultkit import cli_in_process, cli_subprocess, record_calls

from infodyn.energy import IsingModel, KPairwiseModel, all_states
from infodyn.errors import InputError
from infodyn.experiments.energy_run import run_energy

ENERGY_FAKE = {
    "bits_per_word": 2,
    "n_train": 1,
    "n_test": 1,
    "heldout": {
        "model_test_bits": 0.0,
        "independent_test_bits": 0.0,
        "model_train_bits": 0.0,
        "independent_train_bits": 0.0,
        "gain_over_independent_bits": 0.0,
        "gain_over_independent_se_bits": 0.0,
        "train_gain_over_independent_bits": 0.0,
        "train_gain_over_independent_se_bits": 0.0,
    },
    "dropped_constant_bits": [],
    "warnings": [],
    "memories": {"n_distinct": 1},
    "thermodynamics": {
        "heat_capacity": {
            "peak_temperature": 1.0,
            "temperatures": [0.5, 1.0, 3.0],
            "peak_at_grid_edge": False,
        }
    },
}


def run_cli(*args):
    return cli_subprocess("energy", *args)


def test_energy_cli_writes_run_directory(tmp_path):
    rng = np.random.default_rng(0)
    n = 8
    J = np.triu(rng.normal(0.3, 0.6, (n, n)), 1)
    truth = IsingModel(J + J.T, rng.normal(2.0, 0.5, n))
    raster = truth.sample(6000, seed=1, chains=2).reshape(2, 3000, n)
    raster = np.concatenate([raster, np.zeros((2, 3000, 1), np.uint8)], axis=2)  # a silent unit
    path = tmp_path / "spikes.npz"
    np.savez(path, raster=raster)
    out = tmp_path / "run"
    res = run_cli(str(path), "--out", str(out), "--samples", "2000")
    assert res.returncode == 0, res.stderr
    r = json.loads((out / "results.json").read_text())
    assert r["bits_per_word"] == n and r["dropped_constant_bits"] == [n]
    # said on stderr too: the words were asked for n + 1 units and have n bits
    assert "warning: 1 bit(s) of the words never change in the training words" in res.stderr
    assert f"left out of the model: {n} " in res.stderr and "overfits" not in res.stderr
    assert r["n_train"] == 4800 and r["n_test"] == 1200
    h = r["heldout"]
    # the held-out report's training words are those the fit saw: not the 10 % validation rows
    assert r["n_validation"] == 480 and h["n_train"] == 4320
    assert h["expected_gap_nats"] == pytest.approx(n * (n + 1) / 2 / 4320)
    assert h["model_test_bits"] > h["independent_test_bits"]
    assert r["memories"]["n_distinct"] >= 1 and r["log_z"]["method"] == "exact"
    assert sum(t["fraction_of_words"] for t in r["memories"]["top"]) <= 1.0 + 1e-12
    assert all(0 <= t["basin"]["1_flips"] <= 1 for t in r["memories"]["top"])
    for f in r["files"]["figures"] + ["model.npz", "config.json"]:
        assert (out / f).exists(), f
    model = IsingModel.load(out / "model.npz")
    assert model.n == n and model.fit_info["method"] == "mpf"
    assert json.loads((out / "config.json").read_text())["command"] == "energy"
    # the thermodynamics section: C(T)/N of the saved model, by brute force at one temperature
    th = r["thermodynamics"]
    hc = th["heat_capacity"]
    T = hc["temperatures"][10]
    e = model.energy(all_states(n))
    p = np.exp(-(e - e.min()) / T)
    p /= p.sum()
    assert hc["c_per_unit"][10] == pytest.approx((p @ e**2 - (p @ e) ** 2) / T**2 / n, rel=1e-8)
    assert hc["method"] == "exact" and min(hc["temperatures"]) <= hc["peak_temperature"]
    # S(1)/n by enumeration against the entropy at T = 1 from the probabilities, in bits per
    # unit (nats would be 0.69 times as large)
    p1 = np.exp(-(e - e.min()))
    p1 /= p1.sum()
    exact_s = -(p1[p1 > 0] @ np.log2(p1[p1 > 0])) / n
    assert th["entropy_bits_per_unit_T1"] == pytest.approx(exact_s, rel=1e-9)
    assert th["zipf_data"]["slope"] < 0 and th["zipf_model"]["n_words"] == 2000
    # the K-pairwise model through the same command
    out2 = tmp_path / "run_k"
    res = run_cli(str(path), "--out", str(out2), "--samples", "2000", "--model", "k_pairwise")
    assert res.returncode == 0, res.stderr
    r2 = json.loads((out2 / "results.json").read_text())
    assert isinstance(IsingModel.load(out2 / "model.npz"), KPairwiseModel)
    assert r2["fit"]["model"] == "k_pairwise"
    assert r2["heldout"]["model_test_bits"] > r2["heldout"]["independent_test_bits"]


def _main(monkeypatch, capsys, *args):
    """``infodyn energy ARGS`` in-process: (exit code, stderr)."""
    code, _, err = cli_in_process(["energy", *args], capsys)
    return code, err


def test_energy_cli_bad_input(tmp_path, monkeypatch, capsys):
    code, err = _main(monkeypatch, capsys, str(tmp_path / "missing.h5"), "--out", str(tmp_path))
    assert code == 2 and "no such file" in err
    path = tmp_path / "flat.npz"
    np.savez(path, raster=np.zeros((200, 4), np.uint8))
    code, err = _main(monkeypatch, capsys, str(path), "--out", str(tmp_path / "o2"))
    assert code == 2 and "nothing to fit" in err
    assert len(err.strip().splitlines()) == 1
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o3"), "--units", "a-b"
    )
    assert code == 2 and "units must look like '0,3,5' or '0-19,25'" in err
    code, err = _main(  # a repeat was accepted by energy and refused by info
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o3"), "--units", "0-2,1"
    )
    assert code == 2 and "nothing to fit" in err  # the set {0, 1, 2}, as in criticality
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o4"), "--method", "x"
    )
    assert code == 2 and "method" in err


def test_energy_cli_max_units_names_its_option(tmp_path, monkeypatch, capsys):
    # the refusal named max_units, a setting the command line could not change
    rng = np.random.default_rng(4)
    path = tmp_path / "six.npz"
    np.savez(path, raster=(rng.random((400, 6)) < 0.3).astype(np.uint8))
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o"), "--max-units", "4"
    )
    assert code == 2 and "6 units spike, more than --max-units = 4" in err and "raise" in err
    assert len(err.strip().splitlines()) == 1
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o"), "--max-units", "6",
        "--samples", "200",
    )  # fmt: skip
    assert code in (0, None), err


def test_energy_cli_passes_every_option(tmp_path, monkeypatch, capsys):
    """N1, N2 (tests/energy/test_energy_cli.py): each option lands under its own key of the
    run config (--l1 was sent as l2's value; --window was dropped)."""
    path = tmp_path / "s.npz"
    np.savez(path, raster=np.zeros((30, 3), np.uint8))
    calls = record_calls(monkeypatch, "infodyn.experiments.energy_run", "run_energy", ENERGY_FAKE)
    extra = ["--l1", "0.03", "--l2", "0.005", "--window", "3", "--validation", "0.25"]
    extra += ["--patience", "7", "--memories", "5"]  # TOML keys only, before
    rc, out, err = cli_in_process(["energy", path, "--out", tmp_path / "r", *extra], capsys)
    assert rc == 0, err
    cfg = calls[-1][0][0]
    assert (cfg["l1"], cfg["l2"], cfg["window"], cfg["validation"]) == (0.03, 0.005, 3, 0.25)
    assert (cfg["patience"], cfg["n_memories"]) == (7, 5)


def test_energy_cli_warns_when_the_model_is_worse_than_independent_units(
    tmp_path, monkeypatch, capsys
):
    path = tmp_path / "s.npz"
    np.savez(path, raster=np.zeros((30, 3), np.uint8))
    fits = {"model_train_bits": -0.9, "independent_train_bits": -0.95}
    fits |= {"train_gain_over_independent_bits": 0.05, "train_gain_over_independent_se_bits": 0.0}
    held = {"model_test_bits": -1.024, "independent_test_bits": -0.981}
    held |= {"gain_over_independent_bits": -0.043, "gain_over_independent_se_bits": 0.01}
    # the run keeps what its held-out report says (likelihood_notes); the command prints it
    from infodyn.experiments.energy_run import likelihood_notes

    assert likelihood_notes({**held, **fits, "gain_over_independent_bits": -1e-4}) == []  # a tie
    worse = {**ENERGY_FAKE, "heldout": {**held, **fits}}
    worse["warnings"] = likelihood_notes(worse["heldout"])
    record_calls(monkeypatch, "infodyn.experiments.energy_run", "run_energy", worse)
    rc, out, err = cli_in_process(["energy", path, "--out", tmp_path / "r"], capsys)
    assert rc == 0 and "model does worse than independent units" in err and "--l2" in err, err
    # worse on its own training words too: not overfitting, a failed fit (said "use --l2")
    failed_fit = {"model_train_bits": -70.9, "train_gain_over_independent_bits": -69.95}
    failed = {**ENERGY_FAKE, "heldout": {**held, **fits, **failed_fit}}
    failed["warnings"] = likelihood_notes(failed["heldout"])
    edge = {"peak_temperature": 3.0, "temperatures": [0.5, 1.0, 3.0], "peak_at_grid_edge": True}
    failed["thermodynamics"] = {"heat_capacity": edge}  # "peaks at T = 3.00", the grid's end
    record_calls(monkeypatch, "infodyn.experiments.energy_run", "run_energy", failed)
    rc, out, err = cli_in_process(["energy", path, "--out", tmp_path / "r2"], capsys)
    assert rc == 0 and "on its own training words: the fit failed" in err and "overfits" not in err
    assert (
        "use --l2 (e.g. 0.01): pairs" in err
        and "C(T)/N has no peak in T = 0.5-3 (it is largest" in out
    )


@pytest.fixture(scope="module")
def energy_run(tmp_path_factory):
    """One small energy run: 2 trials of 200 words; unit 4 is silent and unit 5 always on in
    the first 80 % of each trial (the training words) and random in the held-out last 20 %."""

    tmp = tmp_path_factory.mktemp("energy")
    rng = np.random.default_rng(7)
    raster = (rng.random((2, 200, 6)) < 0.3).astype(np.uint8)
    raster[:, :160, 4] = 0
    raster[:, :160, 5] = 1
    raster[:, 160:, 4:] = rng.random((2, 40, 2)) < 0.5
    np.savez(tmp / "s.npz", raster=raster)
    cfg = {"spikes": str(tmp / "s.npz"), "n_samples": 200, "validation": 0.0}
    return run_energy(cfg, tmp / "run"), tmp / "run"


def test_energy_holds_out_the_end_of_each_trial_and_drops_constant_bits(energy_run):
    """Y1, Y2: the test words are the last 20 % of each trial (module docstring), so bits 4
    (silent) and 5 (always on) in the training words are dropped, not fitted."""
    res, _ = energy_run
    assert (res["n_train"], res["n_test"]) == (320, 80)
    assert res["dropped_constant_bits"] == [4, 5]
    assert res["kept_bits"] == [0, 1, 2, 3] and res["bits_per_word"] == 4


def test_energy_memory_probabilities_are_boltzmann(energy_run):
    """Y5: p(memory) = exp(-E(memory)) / Z, with Z summed over all 2^n states by brute force."""

    res, out = energy_run
    model = IsingModel.load(out / "model.npz")
    e = model.energy(all_states(model.n))
    log_z = -e.min() + math.log(np.exp(-(e - e.min())).sum())
    for top in res["memories"]["top"]:
        pattern = np.array([[int(c) for c in top["pattern"]]], dtype=np.uint8)
        expected = math.exp(-float(model.energy(pattern)[0]) - log_z)
        assert top["model_probability"] == pytest.approx(expected, rel=1e-9)


def test_energy_accepts_twenty_words(tmp_path):
    """Y3: the floor is 20 words ('only N words' is said below it, not at it)."""

    rng = np.random.default_rng(8)
    raster = (rng.random((20, 3)) < 0.5).astype(np.uint8)
    raster[0], raster[1] = 0, 1  # every bit changes in the training words
    np.savez(tmp_path / "s.npz", raster=raster)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_energy({"spikes": str(tmp_path / "s.npz"), "n_samples": 100}, tmp_path / "r")
    assert res["n_words"] == 20
    np.savez(tmp_path / "s19.npz", raster=raster[:19])
    with pytest.raises(InputError, match="only 19 words"):
        run_energy({"spikes": str(tmp_path / "s19.npz"), "n_samples": 100}, tmp_path / "r19")


def test_energy_transitions_never_span_two_trials(tmp_path):
    """Y6, Y4: trial 0 is the word 1100 throughout and trial 1 the word 0011: every transition
    inside a trial is a self-transition, and the step from the end of trial 0 to the start of
    trial 1 is no transition at all (the Markov chain is cut at trial boundaries)."""

    p, q = np.array([1, 1, 0, 0], np.uint8), np.array([0, 0, 1, 1], np.uint8)
    np.savez(tmp_path / "s.npz", raster=np.stack([np.tile(p, (100, 1)), np.tile(q, (100, 1))]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_energy(
            {"spikes": str(tmp_path / "s.npz"), "n_samples": 100, "l2": 0.01}, tmp_path / "r"
        )
    assert sorted(t["pattern"] for t in res["memories"]["top"]) == ["0011", "1100"]
    # Y4: 1100 and 0011 differ in 4 bits: a code of minimum distance 4 corrects (4 - 1) // 2 = 1
    mem = res["memories"]
    assert (mem["minimum_distance"], mem["correction_radius"]) == (4, 1)
    chain = res["markov_chain"]
    assert chain["fraction_self_transitions"] == 1.0
    assert chain["top_transition"] == [[1.0, 0.0], [0.0, 1.0]]


def test_energy_refuses_trials_too_short_to_hold_out_words(tmp_path):
    """``infodyn energy`` on 50 trials of 2 words: round(0.2 * 2) = 0 test words per trial, so
    no word is held out. That must be one line naming --test-fraction (what to change), said
    before the run folder is made, not 'X_test needs at least 1 pattern(s)' after the fit."""

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "short.npz", raster=(rng.random((50, 2, 4)) < 0.4).astype(np.uint8))
    with pytest.raises(InputError, match="test_fraction"):
        run_energy({"spikes": str(tmp_path / "short.npz"), "n_samples": 100}, tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_energy_refuses_words_with_fewer_than_two_changing_bits_naming_the_file(tmp_path):
    """One spike in the file: one bit ever changes. The refusal named neither the file nor
    what to change ("fewer than two bits ever change in these words")."""
    raster = np.zeros((500, 5), np.uint8)
    raster[100, 2] = 1
    np.savez(tmp_path / "one.npz", raster=raster)
    said = r"one\.npz: 1 bit of the words .* ever changes in .* fewer than two"
    with pytest.raises(InputError, match=said):
        run_energy({"spikes": str(tmp_path / "one.npz"), "n_samples": 100}, tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_energy_cli_runs_a_toml_config_and_typed_options_override_it(tmp_path, monkeypatch, capsys):
    """`infodyn config init energy` printed a file that `infodyn energy` refused ("unknown spike
    file type '.toml'"): the file runs now, its keys as given, an option typed on the command
    line over its key, and its spike file checked as the command's argument is."""
    path = tmp_path / "s.npz"
    np.savez(path, raster=np.zeros((30, 3), np.uint8))
    config = tmp_path / "energy.toml"
    config.write_text(f'spikes = "{path}"\nl2 = 0.02\nwindow = 2\nmethod = "pl"\n')
    calls = record_calls(monkeypatch, "infodyn.experiments.energy_run", "run_energy", ENERGY_FAKE)
    rc, out, err = cli_in_process(
        ["energy", config, "--out", tmp_path / "r", "--window", "3", "--seed", "0"], capsys
    )
    assert rc == 0, err
    cfg = calls[-1][0][0]
    assert (cfg.spikes, cfg.l2, cfg.method) == (str(path), 0.02, "pl")  # from the file
    assert (cfg.window, cfg.seed) == (3, 0)  # typed, the default value included
    assert cfg.n_samples == 20000  # neither: the config's default
    config.write_text(f'spikes = "{tmp_path / "gone.h5"}"\n')
    rc, out, err = cli_in_process(["energy", config, "--out", tmp_path / "r2"], capsys)
    assert rc == 2 and "no such file" in err and "gone.h5" in err
    config.write_text(f'spikes = "{path}"\nl3 = 1\n')
    rc, out, err = cli_in_process(["energy", config, "--out", tmp_path / "r3"], capsys)
    assert rc == 2 and "l3" in err and len(err.strip().splitlines()) == 1


def test_energy_refuses_too_many_selected_units_before_binning_them(tmp_path, monkeypatch):
    # --units 0-99999 was binned whole (11 s, 2.1 GB) before the bits were counted
    import infodyn.energy as E
    from infodyn.data import SpikeTrain, save_spikes
    from infodyn.experiments.energy_run import run_energy

    rng = np.random.default_rng(4)
    raster = (rng.random((400, 7)) < 0.3).astype(np.uint8)
    raster[:, 6] = 1  # a unit that spikes in every step: a constant bit, not counted
    path = save_spikes(tmp_path / "seven.h5", SpikeTrain.from_dense(raster))

    def binned(*a, **k):
        raise AssertionError("binned before the units were counted")

    monkeypatch.setattr(E, "binary_words", binned)
    with pytest.raises(InputError, match="5 of the selected 5 units spike, more than max_units"):
        run_energy({"spikes": str(path), "units": "0-4", "max_units": 4}, tmp_path / "o")
    with pytest.raises(InputError, match="6 bits a word at window 2, more than max_units = 4"):
        run_energy(
            {"spikes": str(path), "units": [0, 1, 2], "window": 2, "max_units": 4}, tmp_path / "o"
        )
    with pytest.raises(AssertionError, match="binned"):  # 5 changing bits: the fit decides
        run_energy({"spikes": str(path), "units": "2-6", "max_units": 4}, tmp_path / "o")


def test_energy_cli_a_tie_with_independent_units_is_no_overfit(tmp_path, capsys):
    # --l1 1e9 drove every coupling to 0: the model is the independent one, 9e-7 bit a word
    # below it, and was said to overfit ("use --l2") where the penalty was already huge
    path = tmp_path / "s.npz"
    bits = np.random.default_rng(0).random((4000, 4)) < [0.2, 0.3, 0.4, 0.5]
    np.savez(path, raster=bits.astype(np.uint8))
    rc, out, err = cli_in_process(["energy", path, "--out", tmp_path / "r", "--l1", "1e9"], capsys)
    assert rc == 0, err
    held = json.loads((tmp_path / "r" / "results.json").read_text())["heldout"]
    assert abs(held["gain_over_independent_bits"]) < 1e-3  # a tie, whichever its sign
    assert "worse than independent" not in err, err
    # 3200 training words, of which the fit held 320 out for early stopping ("3200 train")
    assert "4-bit words (3200 train (320 of them validation), 800 test)" in out, out


def test_the_printed_peak_carries_its_bootstrap_spread():
    from infodyn.cli.energy import _peak_words

    hc = {"peak_temperature": 1.137, "temperatures": [0.5, 3.0], "peak_at_grid_edge": False}
    assert _peak_words(hc) == "C(T)/N peaks at T = 1.14"  # exact (or a run before it was kept)
    hc["peak_temperature_err"] = 0.1234
    assert _peak_words(hc) == "C(T)/N peaks at T = 1.14 +- 0.12 (block bootstrap)"


def test_an_energy_run_reruns_from_its_config_json(energy_run, tmp_path, capsys):
    """`infodyn energy RUN/config.json` went to Neo as a spike file (it read only .toml configs)
    and failed on a missing .xdat file; `criticality` on it did the same."""
    res, out = energy_run
    assert (out / "config.json").exists()
    rc, _, err = cli_in_process(
        ["energy", out / "config.json", "--out", tmp_path / "again"], capsys
    )
    assert rc == 0, err
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again["heldout"] == pytest.approx(res["heldout"])
    rc, _, err = cli_in_process(
        ["criticality", out / "config.json", "--out", tmp_path / "c"], capsys
    )
    assert rc == 2 and "a JSON file is not a spike file" in err, err
