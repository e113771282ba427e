"""``infodyn criticality SPIKES --out DIR`` end to end."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest
from faultkit import cli_in_process, record_calls

import infodyn.criticality as C
from infodyn.data.spikes import SpikeTrain, save_spikes
from infodyn.errors import InputError

CRIT_FAKE = {
    "branching": {"mr": {"m": None, "tau_ms": None}},
    "avalanches": {"size_fit": None, "n": 0},
    "warnings": [],
}


def _spike_file(path, m=0.95, h=0.1, steps=30_000, trials=2, seed=1):
    """Spikes of a branching process spread over 200 units (each event a random unit)."""
    a = C.simulate_branching_process(m, h, steps, trials=trials, seed=seed)
    rng = np.random.default_rng(seed)
    trial, time = np.nonzero(a)
    reps = a[trial, time]
    trial, time = np.repeat(trial, reps), np.repeat(time, reps)
    units = rng.integers(0, 200, trial.size)
    # one spike per unit and step: keep unique (trial, time, unit) triples
    key = np.unique(np.stack([trial, time, units], 1), axis=0)
    sp = SpikeTrain(
        times=key[:, 1],
        units=key[:, 2],
        trials=key[:, 0],
        n_units=200,
        n_steps=steps,
        n_trials=trials,
        dt=1.0,
    )
    save_spikes(path, sp)
    return sp


class _Proc:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run ``infodyn ARGS`` in-process through the console entry point (exit code, output)."""
    import infodyn.cli.criticality  # noqa: F401 - registers the command
    from infodyn.cli import main

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["infodyn", *map(str, args)])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out = capsys.readouterr()
        return _Proc(code, out.out, out.err)

    return run


def test_cli_writes_results_and_figures(tmp_path, cli):
    _spike_file(tmp_path / "s.h5")
    out = tmp_path / "run"
    proc = cli("criticality", tmp_path / "s.h5", "--out", out, "--n-boot", "30")
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    mr = res["branching"]["mr"]
    assert abs(mr["m"] - 0.95) < 0.02
    assert mr["m_ci"][0] < mr["m"] < mr["m_ci"][1]
    assert set(mr["fits"]) == {"exp", "exp_offset"}
    av = res["avalanches"]
    assert av["n"] > 500 and av["size_fit"]["alpha"] > 1
    assert set(av["size_fit"]["comparisons"]) == {"exponential", "lognormal", "truncated_power_law"}
    assert res["fano_factor"] > 1
    for name in ("branching", "sizes", "durations", "size_vs_duration"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["command"] == "criticality" and cfg["config"]["n_boot"] == 30
    fit = av["size_fit"]
    assert f"alpha_S = {fit['alpha']:.3f} on {fit['n_tail']} of {fit['n']} sizes" in proc.stdout
    # the durations and the crackling relation were in results.json alone
    df, cr = av["duration_fit"], av["crackling"]
    said = {True: "consistent", False: "not within 2 SE"}[cr["consistent"]]
    assert f"alpha_D = {df['alpha']:.3f} on {df['n_tail']} of {df['n']} durations" in proc.stdout
    assert (
        f"crackling gamma "
        f"= {cr['gamma_fitted']:.3f} +- {cr['gamma_fitted_stderr']:.3f} fitted vs "
        f"{cr['gamma_predicted']:.3f} +- {cr['gamma_predicted_stderr']:.3f} from "
        f"(alpha_D - 1)/(alpha_S - 1): {said}"
    ) in proc.stdout


def test_the_summary_line_says_what_the_likelihood_ratios_favour():
    """'58 avalanches, alpha_S = 1.622' read as a power law where the exponential (p = 0.003)
    and the lognormal (p = 0.001) fitted the tail better."""
    from infodyn.cli.criticality import _verdict

    def fit(**favoured):
        return {
            "n_tail": 50,
            "n": 58,
            "comparisons": {k: {"favored": v, "p": 0.003} for k, v in favoured.items()},
        }

    said = _verdict(fit(exponential="exponential", lognormal="lognormal"))
    assert said == (
        " on 50 of 58 sizes, but exponential (p = 0.003) and lognormal (p = 0.003) fit the "
        "tail better"
    )
    said = _verdict(fit(exponential="power_law", lognormal="neither"))
    assert said == " on 50 of 58 sizes, favoured over exponential"
    assert _verdict(fit(exponential="neither")) == " on 50 of 58 sizes, undecided"
    said = _verdict(fit(exponential="exponential", lognormal="neither"))
    assert said == " on 50 of 58 sizes, but exponential (p = 0.003) fits the tail better"
    assert _verdict({}) == ""
    assert _verdict({**fit(exponential="neither"), "n_tail": 0}) == ""  # no fit: alpha_S nan


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, cli):
    proc = cli("criticality", tmp_path / "missing.h5", "--out", tmp_path / "r")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    _spike_file(tmp_path / "s.h5", steps=2000)
    proc = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "r2", "--bin-ms", "wide")
    assert proc.returncode == 2 and "bin width" in proc.stderr
    proc = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "r3", "--kmax", "5000")
    assert proc.returncode == 2 and "kmax" in proc.stderr
    proc = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "r4", "--ci-method", "bca")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--ci-method must be one of" in proc.stderr


def test_cli_symmetric_t_intervals(tmp_path, cli):
    _spike_file(tmp_path / "s.h5", steps=5000)
    out = tmp_path / "run"
    args = ("--n-boot", "20", "--ci-method", "symmetric_t", "--avalanche-bin-ms", "step")
    proc = cli("criticality", tmp_path / "s.h5", "--out", out, *args)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())["branching"]
    for name in ("mr", "naive"):
        lo, hi = res[name]["m_ci"]
        assert res[name]["ci_method"] == "symmetric_t"
        assert res[name]["m"] - lo == pytest.approx(hi - res[name]["m"], rel=1e-9)
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert cfg["ci_method"] == "symmetric_t"


@pytest.mark.parametrize("suffix", [".npz"])
def test_run_reads_npz_rasters(tmp_path, suffix):
    from infodyn.experiments.criticality_run import run_criticality

    sp = _spike_file(tmp_path / "s.h5", steps=5000, trials=1)
    np.savez(tmp_path / f"r{suffix}", raster=sp.to_dense()[0])
    res = run_criticality(tmp_path / f"r{suffix}", tmp_path / "run", n_boot=0)
    assert res["n_units"] == 200 and np.isfinite(res["branching"]["naive"]["m"])


def test_unit_selection_and_subsampling(tmp_path, cli):
    from infodyn.experiments.criticality_run import run_criticality

    sp = _spike_file(tmp_path / "s.h5", m=0.95, h=2.0, steps=10_000, trials=2)
    full = run_criticality(sp, tmp_path / "full", n_boot=0)
    sub = run_criticality(sp, tmp_path / "sub", n_boot=0, sample_fraction=0.1)
    assert sub["n_units"] == 20 and sub["n_spikes"] < full["n_spikes"]
    nf, ns = full["branching"]["naive"]["m"], sub["branching"]["naive"]["m"]
    assert ns < nf - 0.1  # the naive slope collapses under 10 % subsampling ...
    assert abs(sub["branching"]["mr"]["m"] - full["branching"]["mr"]["m"]) < 0.02  # MR does not
    cfg = json.loads((tmp_path / "sub" / "config.json").read_text())["config"]
    assert cfg["n_units_analysed"] == 20
    proc = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "r", "--units", "0-300")
    assert proc.returncode == 2 and "units" in proc.stderr
    # the range is checked before it is expanded (was a list of 10^10 numbers: out of memory)
    proc = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "r", "--units", "0-9999999999")
    assert proc.returncode == 2 and "must lie in [0, 199]" in proc.stderr
    # messages name the option typed, not the Python parameter behind it
    proc = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "r", "--n-boot", "1")
    assert proc.returncode == 2 and "--n-boot must be 0 (no intervals) or at least 2" in proc.stderr
    proc = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "r", "--method", "x")
    assert proc.returncode == 2 and "--method must be 'ts' or 'sm'" in proc.stderr


def test_criticality_cli_passes_method_gof_and_sample_fraction(tmp_path, monkeypatch, capsys):
    """C1, C2, C3 (tests/criticality/test_cli.py): --method, --gof-bootstrap and
    --sample-fraction reach run_criticality."""
    calls = record_calls(
        monkeypatch, "infodyn.experiments.criticality_run", "run_criticality", CRIT_FAKE
    )
    argv = ["criticality", tmp_path / "s.h5", "--out", tmp_path / "r"]
    extra = ["--method", "sm", "--gof-bootstrap", "7", "--sample-fraction", "0.25", "--kmin", "3"]
    rc, out, err = cli_in_process([*argv, *extra], capsys)
    assert rc == 0, err
    kw = calls[-1][1]
    assert kw["coefficient_method"] == "sm" and kw["kmin"] == 3
    assert kw["gof_bootstrap"] == 7
    assert kw["sample_fraction"] == 0.25


def test_cli_bias_correction_follows_its_own_advice(tmp_path, cli):
    # short trials against tau: the plain run advises the flag in the CLI's own words, and the
    # flag gives the bias-corrected m (as branching_ratio does), recorded with the config
    _spike_file(tmp_path / "s.h5", m=0.9, h=20.0, steps=200, trials=40, seed=3)
    common = ("--n-boot", "30", "--kmax", "12", "--avalanche-bin-ms", "step")
    plain = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "a", *common)
    assert plain.returncode == 0, plain.stderr
    assert "pass --bias-correction" in plain.stderr and "bias_correction=True" not in plain.stderr
    fixed = cli(
        "criticality", tmp_path / "s.h5", "--out", tmp_path / "b", *common, "--bias-correction"
    )
    assert fixed.returncode == 0, fixed.stderr
    assert "bias-correction" not in fixed.stderr
    res = json.loads((tmp_path / "b" / "results.json").read_text())["branching"]
    act = C.step_counts(tmp_path / "s.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = C.branching_ratio(act, kmax=12, n_boot=30, bias_correction=True)
    assert res["mr"]["m"] == pytest.approx(ref.m, rel=1e-12) and res["mr"]["bias_correction"]
    before = json.loads((tmp_path / "a" / "results.json").read_text())["branching"]["mr"]["m"]
    assert before < res["mr"]["m"]  # the plain fit is biased low on short trials
    cfg = json.loads((tmp_path / "b" / "config.json").read_text())["config"]
    assert cfg["bias_correction"] is True


def test_the_estimators_advice_is_given_in_flags_the_command_has():
    """'kmin past the oscillation' and 'a bin of at least n_ref + 1 steps' named no flag of
    infodyn criticality; each API phrase it rewrites must still be the library's own."""
    import inspect

    from infodyn.cli.criticality import CLI_WORDS, criticality

    criticality_options = {
        name
        for p in inspect.signature(criticality).parameters.values()
        for name in getattr(p.default, "param_decls", None) or ()
    }
    from infodyn.criticality import _mr_bias, _mr_decay, _mr_interval, branching, mr_fit

    modules = (_mr_bias, _mr_decay, _mr_interval, branching, mr_fit)
    text = "".join(inspect.getsource(m) for m in modules)
    text = " ".join(text.replace('"', " ").split())  # the notes' strings span source lines
    activity = np.random.default_rng(0).poisson(3.0, (2, 300))
    for api, flag in CLI_WORDS:
        if api.endswith(" must be"):  # infodyn.errors' range check of the parameter
            name = api.split()[0]
            with pytest.raises(InputError, match=f"^{api} a whole number"):
                branching.branching_ratio(activity, **{name: {"kmax": 1, "kmin": 0}[name]})
        else:
            assert " ".join(api.split()) in text, api
        options = [w.rstrip("),") for w in flag.split() if w.startswith("--")]
        assert options and set(options) <= criticality_options, flag


def test_refusals_and_the_replicate_note_name_the_commands_flags(tmp_path, cli):
    # "kmax=495 is too large" and "use n_boot >= 100" named the library's arguments
    _spike_file(tmp_path / "s.h5", m=0.9, h=2.0, steps=500, trials=4, seed=2)
    refused = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "a", "--kmax", "495")
    assert refused.returncode == 2
    assert "--kmax 495 is too large for 500 bins per trial" in refused.stderr
    assert "Traceback" not in refused.stderr
    small = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "a", "--kmax", "1")
    assert small.returncode == 2 and "error: --kmax must be a whole number >= 3" in small.stderr
    two = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "a", "--kmax", "2")
    assert two.returncode == 2 and "error: --kmax must be a whole number >= 3" in two.stderr
    few = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "b", "--n-boot", "10")
    assert few.returncode == 0, few.stderr
    assert "--n-boot 10 replicates cannot resolve" in few.stderr
    assert "use --n-boot >= 100" in few.stderr and "n_boot" not in few.stderr
    # a path that holds an API name is left as it is (it read "sweep/--kmax 40/missing.h5")
    missing = cli("criticality", tmp_path / "kmax=40" / "s.h5", "--out", tmp_path / "c")
    assert missing.returncode == 2 and "kmax=40" in missing.stderr, missing.stderr
    assert "--kmax 40" not in missing.stderr
    bare = cli("criticality", "kmax=40.h5", "--out", tmp_path / "d")  # it read "--kmax 40.h5"
    assert bare.returncode == 2 and "kmax=40.h5" in bare.stderr, bare.stderr


def test_the_memory_refusal_names_the_commands_options(tmp_path, cli, monkeypatch):
    # "lower --n-boot or n_inner (or kmax)": the command has no n_inner, and kmax is --kmax
    _spike_file(tmp_path / "s.h5", m=0.9, h=2.0, steps=500, trials=4, seed=2)
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "50M")
    args = ("--n-boot", "100000", "--ci-method", "symmetric_t")
    refused = cli("criticality", tmp_path / "s.h5", "--out", tmp_path / "a", *args)
    assert refused.returncode == 2, refused.stderr
    assert (
        "lower --n-boot or --kmax, or use --ci-method centred_percentile (no inner replicates)"
        in refused.stderr
    ), refused.stderr


def test_the_durations_line_says_a_rejection_and_an_unknown_error():
    """A bootstrap p of 0.02 was printed without saying it rejects the power law (p < 0.1), and
    a missing standard error as "+- 0.000"."""
    from infodyn.cli.criticality import _durations_line

    fit = {"alpha": 1.9, "n_tail": 40, "n": 90, "p_value": 0.33, "comparisons": {}}
    av = {
        "duration_fit": fit,
        "size_fit": {**fit, "p_value": 0.02},
        "crackling": {
            "gamma_fitted": 1.2,
            "gamma_fitted_stderr": 0.1,
            "gamma_predicted": 1.3,
            "gamma_predicted_stderr": None,
            "consistent": None,
        },
    }
    line = _durations_line(av)
    assert line.startswith("alpha_D = 1.900 on 40 of 90 durations; crackling gamma = 1.200 +- ")
    assert "vs 1.300 +- n/a from (alpha_D - 1)/(alpha_S - 1): SE unknown" in line
    assert line.endswith("power-law bootstrap p = 0.02 (sizes: rejected), 0.33 (durations)")


def test_an_unreported_m_is_said_so_on_the_summary_line(tmp_path, cli):
    """ "MR m = nan, tau = nan ms" stood beside the warning that m is not reported."""
    raster = np.zeros((2000, 20), np.uint8)
    raster[::97, 3] = 1  # sparse, uncorrelated: no m to estimate
    raster[::89, 7] = 1
    np.savez(tmp_path / "s.npz", raster=raster)
    proc = cli("criticality", tmp_path / "s.npz", "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert res["branching"]["mr"]["m"] is None
    assert proc.stdout.startswith("MR m not reported (see the warnings); ")
