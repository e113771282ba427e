"""The natural-image pipeline end to end on a tiny config, and its building blocks."""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from faultkit import cli_in_process, record_calls

from infodyn.errors import InputError
from infodyn.experiments import pipeline as pl
from infodyn.experiments.config import validate
from infodyn.experiments.pipeline.analysis import ResponseAnalysis
from infodyn.experiments.pipeline.config import PipelineConfig, apply_overrides, quick_config
from infodyn.experiments.pipeline.summary import captions, figure_order, headline, summary_lines
from infodyn.experiments.rundir import RunDir

TINY = """
stages = ["image_energy", "network", "report"]

[images]
images = ["camera", "grass"]
sizes = [4]
n_patches = 1500

[energy]
n_samples = 100
denoise_patterns = 40
denoise_flips = [1, 2]
max_words_units = 8

[stimulus]
n_stimuli = 3
trial_ms = 60
response_start_ms = 20
drift = 0.1

[network]
n_rec = 20
tau_m = 20.0
v_th = 0.03
n_ref = 2

[training]
iterations = 3
batch_size = 2

[analysis]
n_trials = 24
"""

EXPECTED_FIGURES = {
    "image_4x4_patches_and_samples",
    "image_4x4_memories",
    "image_4x4_couplings",
    "image_4x4_denoising",
    "image_4x4_thermodynamics",
    "network_stimuli",
    "network_training",
    "network_rates_before_after",
    *(
        f"network_{s}_{f}"
        for s in ("before", "after")
        for f in (
            "raster",
            "branching",
            "decoding",
            "memories_and_triggered_patches",
            "energy_trajectory",
        )
    ),
}


def _finite_numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _finite_numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _finite_numbers(v, f"{path}[{i}]")
    elif isinstance(obj, float):
        yield path, obj


def test_pipeline_end_to_end_through_the_cli(tmp_path, report_checks):
    _, assert_every_figure_embedded = report_checks
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "images", str(cfg), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "4x4 patches:" in res.stdout and "report:" in res.stdout
    # the stage log (infodyn.progress, not a terminal): one plain line per stage on stderr
    # (a run past a minute adds lines of the counts, "LABEL: P %", which are not stages)
    lines = [ln for ln in res.stderr.splitlines() if ln.endswith(" s]") and " %" not in ln]
    stages = [ln[9:].rsplit("  [", 1)[0] for ln in lines]
    assert stages == [
        "energy model of 4x4 patches",
        "analysing the untrained network",
        "training",
        "analysing the trained network",
        "writing report.html",
    ], res.stderr[-3000:]
    assert "\x1b" not in res.stderr
    for name in (
        "config.json",
        "results.json",
        "report.html",
        "training_history.json",
        "network_params.npz",
        "image_4x4_model.npz",
    ):
        assert (out / name).is_file(), name
    figs = {p.stem for p in (out / "figures").glob("*.png")}
    assert EXPECTED_FIGURES <= figs, EXPECTED_FIGURES - figs
    text = (out / "report.html").read_text()
    assert_every_figure_embedded(out, text)
    results = json.loads((out / "results.json").read_text())
    # no stage left out; notes may only flag an oscillating population activity or an m not
    # resolved (with its reason)
    said = results["notes"]
    assert all("do not decay" in n or "m not resolved: " in n for n in said), said
    img = results["image_energy_4x4"]
    assert img["n_units"] == 16 and img["log_z_method"] == "exact"
    assert img["bits_per_patch_model_test"] > img["bits_per_patch_independent_test"]
    assert img["n_memories"] >= 1 and img["min_distance"] >= 2
    net = results["network"]
    assert set(net) >= {"before_training", "after_training", "training"}
    assert net["training"]["iterations"] == 3
    hist = json.loads((out / "training_history.json").read_text())
    assert len(hist) == 3 and all("info_bound_bits" in r for r in hist)
    for stage in ("before_training", "after_training"):
        info = net[stage]["information"]
        assert 0 <= info["mi_stimulus_decision_bits_plugin"] <= math.log2(3) + 1e-9
    bad = [p for p, v in _finite_numbers(results) if not math.isfinite(v)]
    assert not bad
    cfg_used = json.loads((out / "config.json").read_text())
    assert cfg_used["command"] == "images"
    assert cfg_used["config"]["stimulus"]["n_stimuli"] == 3


def test_bad_config_exits_2_with_one_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[images]\nsizez = [4]\n")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "images", str(cfg), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 2
    assert "[images.sizez] unknown key" in res.stderr and res.stderr.strip().count("\n") == 0


def test_overrides_and_defaults():
    cfg = pl.apply_overrides(
        pl.PipelineConfig(), images=["camera"], sizes="4", iterations=7, seed=3
    )
    assert cfg.images.images == ["camera"] and cfg.images.sizes == [4]
    assert cfg.training.iterations == 7 and cfg.training.enabled
    assert cfg.images.seed == 3 and cfg.stimulus.seed == 4
    assert not pl.apply_overrides(pl.PipelineConfig(), train=False).training.enabled
    with pytest.raises(InputError, match="--iterations 7 with --no-train: "):
        pl.apply_overrides(pl.PipelineConfig(), iterations=7, train=False)  # trained nothing
    off = validate(pl.PipelineConfig, {"training": {"enabled": False}})
    with pytest.raises(InputError, match=r"with the config's \[training\] enabled = false"):
        pl.apply_overrides(off, iterations=7)
    assert pl.apply_overrides(off, iterations=7, train=True).training.enabled
    for typo in ("4,x", "4,,8", "4,", ""):  # an empty item was dropped: "4,,8" ran as "4,8"
        with pytest.raises(ValueError, match="--sizes must be integers separated by commas"):
            pl.apply_overrides(pl.PipelineConfig(), sizes=typo)
    with pytest.raises(InputError, match=r"^--sizes: \[images\] sizes must be patch"):
        pl.apply_overrides(pl.PipelineConfig(), sizes="0", seed=0)  # not "--sizes, --seed:"
    with pytest.raises(InputError, match=r"^--iterations: \[training.iterations\] Input should be"):
        pl.apply_overrides(pl.PipelineConfig(), images=["camera"], iterations=-1, seed=0)
    assert pl.demo_config().images.sizes == [4, 8]


def test_example_configs_are_valid_and_images_toml_is_the_demo():
    from pathlib import Path

    from infodyn.experiments.config import load_config

    root = Path(__file__).resolve().parents[2] / "examples"
    full = load_config(root / "images.toml", pl.PipelineConfig)
    assert full == pl.demo_config()
    paths = sorted(root.glob("images*.toml"))
    assert [p.name for p in paths] == ["images.toml", "images_quick.toml", "images_weak_drive.toml"]
    for path in paths:
        load_config(path, pl.PipelineConfig)


def test_an_image_that_fails_to_load_leaves_no_empty_out_folder(tmp_path):
    """The run folder is made before the image stage reads the images: a broken image left an
    empty --out folder; a folder that existed before the run is kept."""
    from infodyn.errors import InputError
    from infodyn.experiments.config import validate

    (tmp_path / "broken.png").write_bytes(b"\x89PNG not an image")
    images = {"images": [str(tmp_path / "broken.png")], "sizes": [4]}
    cfg = validate(pl.PipelineConfig, {"images": images})
    for out, existed in ((tmp_path / "new", False), (tmp_path / "old", True)):
        if existed:
            out.mkdir()
        with pytest.raises(InputError, match="broken.png: not a readable image"):
            pl.run_pipeline(cfg, out)
        assert out.exists() == existed


def test_images_no_train_reaches_the_pipeline(tmp_path, monkeypatch, capsys):
    """M1 (tests/experiments/test_pipeline.py): ``--no-train`` turns training off."""
    calls = record_calls(monkeypatch, "infodyn.cli.demo", "run_with_progress", {})
    rc, out, err = cli_in_process(["images", "--out", tmp_path / "r", "--no-train"], capsys)
    assert rc == 0, err
    assert calls[-1][0][0].training.enabled is False
    rc, out, err = cli_in_process(["images", "--out", tmp_path / "r"], capsys)
    assert rc == 0, err
    assert calls[-1][0][0].training.enabled is True  # the default config trains


def test_seed_override_reaches_images_training_and_stimulus():
    """--seed S sets the seeds of the patches and of training to S, of the stimuli to S + 1."""

    cfg = apply_overrides(PipelineConfig(), seed=11)
    assert (cfg.images.seed, cfg.training.seed, cfg.stimulus.seed) == (11, 11, 12)


def test_quick_config_is_what_its_docstring_says():
    """quick_config: one patch size, 4 stimuli, 40 units, 15 iterations."""

    q = quick_config()
    assert len(q.images.sizes) == 1 and q.stimulus.n_stimuli == 4
    assert q.network["n_rec"] == 40 and q.training.iterations == 15


def _run_network_only(tmp_path, monkeypatch, stages, training):
    """run_pipeline with the network stage replaced by a stub (the stage is tested elsewhere)."""
    import infodyn.experiments.pipeline.run as prun

    monkeypatch.setattr(prun, "network_stage", lambda cfg, run, progress, resume: {"notes": []})
    cfg = validate(PipelineConfig, {"stages": stages, "training": training})
    return prun.run_pipeline(cfg, tmp_path / "run")


def test_an_interruption_in_the_first_steps_training_is_resumed_only_under_its_config(
    tmp_path, monkeypatch
):
    """Interrupted in the training of its first step (stages = ["network"]), the run left a
    checkpoint and no journal: --resume took a changed config (the untrained analysis then used
    the new seed's network beside the old checkpoint) and a plain rerun trained afresh over the
    checkpoint. Both are refused now, and a resume under the same config continues."""
    import infodyn.experiments.pipeline.run as prun
    from infodyn.experiments.pipeline.training_stage import TRAINING_CHECKPOINT

    resumed = []

    def interrupted(cfg, run, progress, resume):
        (run.path / TRAINING_CHECKPOINT).parent.mkdir(parents=True, exist_ok=True)
        (run.path / TRAINING_CHECKPOINT).write_bytes(b"weights")
        raise KeyboardInterrupt

    def finishing(cfg, run, progress, resume):
        resumed.append(resume)
        return {"notes": []}

    cfg = validate(PipelineConfig, {"stages": ["network"], "training": {"seed": 0}})
    changed = validate(PipelineConfig, {"stages": ["network"], "training": {"seed": 5}})
    out = tmp_path / "run"
    monkeypatch.setattr(prun, "network_stage", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prun.run_pipeline(cfg, out)
    monkeypatch.setattr(prun, "network_stage", finishing)
    with pytest.raises(InputError, match=r"different config \(changed: training.seed\)"):
        prun.run_pipeline(changed, out, resume=True)
    with pytest.raises(InputError, match="holds an interrupted images run"):
        prun.run_pipeline(cfg, out)
    assert (out / TRAINING_CHECKPOINT).read_bytes() == b"weights" and resumed == []
    prun.run_pipeline(cfg, out, resume=True)
    assert resumed == [True] and not (out / "progress.json").exists()
    # the recorded step's checkpoint is spent: it stayed, and a later --resume under another
    # config reran the finished run over its results (or trained on from its weights)
    assert not (out / TRAINING_CHECKPOINT).parent.exists()
    with pytest.raises(InputError, match="run is complete"):
        prun.run_pipeline(changed, out, resume=True)
    (out / TRAINING_CHECKPOINT).parent.mkdir()  # one left by an older version
    (out / TRAINING_CHECKPOINT).write_bytes(b"stale")
    # and the temporary of a write killed part way (it made the folder look like a user's)
    (out / TRAINING_CHECKPOINT).with_name(".checkpoint.npz.abc123.npz.tmp").write_bytes(b"x")
    with pytest.raises(InputError, match="run is complete"):
        prun.run_pipeline(changed, out, resume=True)

    def fresh(cfg, run, progress, resume):  # a plain run starts without it
        assert not (run.path / TRAINING_CHECKPOINT).exists()
        return {"notes": []}

    monkeypatch.setattr(prun, "network_stage", fresh)
    prun.run_pipeline(changed, out)
    mine = out / "training"  # a folder of the user's there (infodyn train --out OUT/training)
    mine.mkdir()
    for name in ("checkpoint.npz", "metrics.json", "config.json"):
        (mine / name).write_text(name)
    monkeypatch.setattr(prun, "network_stage", lambda cfg, run, progress, resume: {"notes": []})
    prun.run_pipeline(changed, out)
    kept = sorted(p.name for p in mine.iterdir())
    assert kept == ["checkpoint.npz", "config.json", "metrics.json"]


def test_the_network_stages_keep_the_order_they_ran(tmp_path, monkeypatch):
    """The journal keeps a step's result with sorted keys: the report showed "after training"
    before "before training"."""
    import infodyn.experiments.pipeline.run as prun

    stages = {"notes": [], "n_stimuli": 4, "before_training": _stage(0.3),
              "training": {"iterations": 2}, "after_training": _stage(0.6)}  # fmt: skip
    monkeypatch.setattr(prun, "network_stage", lambda cfg, run, progress, resume: dict(stages))
    cfg = validate(PipelineConfig, {"stages": ["network"]})
    res = prun.run_pipeline(cfg, tmp_path / "run")
    assert list(res["network"]) == ["n_stimuli", "before_training", "training", "after_training"]
    stored = json.loads((tmp_path / "run" / "results.json").read_text())["network"]
    assert list(stored)[-3:] == ["before_training", "training", "after_training"]


def test_figure_order_names_only_the_figures_written(tmp_path, monkeypatch):
    """A run without the image stage listed the image figures of every size in its
    results' figure_order, figures it never wrote."""
    import infodyn.experiments.pipeline.run as prun

    def stage(cfg, run, progress, resume):
        (run.path / "figures").mkdir(exist_ok=True)
        for name in ("network_rates", "network_before_raster"):
            (run.path / "figures" / f"{name}.png").write_bytes(b"")
        return {"notes": []}

    monkeypatch.setattr(prun, "network_stage", stage)
    res = prun.run_pipeline(validate(PipelineConfig, {"stages": ["network"]}), tmp_path / "r")
    assert res["figure_order"] == ["network_rates", "network_before_raster"]


def test_zero_iterations_is_noted_as_untrained(tmp_path, monkeypatch):
    """results['notes'] lists every stage switched off: iterations = 0 trains nothing."""
    res = _run_network_only(tmp_path, monkeypatch, ["network"], {"iterations": 0})
    assert any("Training was switched off" in n for n in res["notes"]), res["notes"]


def test_report_is_written_only_when_its_stage_is_listed(tmp_path, monkeypatch):
    _run_network_only(tmp_path, monkeypatch, ["network"], {})
    run = tmp_path / "run"
    assert (run / "results.json").is_file() and not (run / "report.html").exists()


def test_denoise_flips_beyond_half_the_smallest_patch_are_refused_as_read():
    # refused only after the first energy fit, as "denoise_flips must be in (0, 8.0)"
    from infodyn.experiments.config import validate

    data = {"images": {"sizes": [4, 8]}, "energy": {"denoise_flips": [2, 8]}}
    with pytest.raises(InputError, match=r"\[energy\] denoise_flips must lie in \(0, 8\) .*\[8\]"):
        validate(pl.PipelineConfig, data)
    validate(pl.PipelineConfig, {**data, "stages": ["network"]})  # no energy stage: not used


def test_no_stages_is_refused():
    # ran nothing and printed "report: DIR/report.html", a file it never wrote
    with pytest.raises(ValueError, match="stages"):
        pl.PipelineConfig(stages=[])


def test_misspelt_image_is_refused_before_any_stage(tmp_path, monkeypatch):
    """run_pipeline refuses a name that is neither built in nor a file before the first stage
    and before the run folder is made (a misspelt name failed once its stage began)."""
    import infodyn.experiments.pipeline.run as prun

    def stage(*a, **k):
        raise AssertionError("the image stage began")

    monkeypatch.setattr(prun, "image_energy_stage", stage)
    cfg = validate(PipelineConfig, {"images": {"images": ["camera", "no_such.png"]}})
    with pytest.raises(InputError, match="no_such.png"):
        prun.run_pipeline(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_zero_iterations_skips_training(tmp_path, monkeypatch):
    ns = importlib.import_module("infodyn.experiments.pipeline.network_stage")

    stim = SimpleNamespace(
        net=None,
        params0={},
        task=None,
        grey=None,
        summary=lambda: {"n_in": 32, "n_rec": 20, "n_out": 3, "stimulus_patches": 3},
    )
    monkeypatch.setattr(ns, "stimulus_stage", lambda cfg, run: stim)
    monkeypatch.setattr(
        ns, "analyse_responses", lambda *a: ResponseAnalysis({"criticality": {}}, np.full(20, 5.0))
    )

    def no_training(*a, **k):
        raise AssertionError("training ran with iterations = 0")

    monkeypatch.setattr(ns, "training_stage", no_training)
    cfg = validate(PipelineConfig, {"training": {"iterations": 0}})
    res = ns.network_stage(cfg, RunDir(tmp_path / "r"), lambda s, f: None)
    assert res["training"] == {"enabled": False} and "after_training" not in res
    assert (tmp_path / "r" / "figures" / "network_rates.png").is_file()


def _stage(mi_sc, mi_bc=None):
    info = {
        "mi_stimulus_decision_bits_plugin": 0.9,
        "stimulus_entropy_bits": 1.0,
        "response_words": {"total_correlation": 0.1},
    }
    if mi_sc is not None:
        info["mi_stimulus_decision_bits_shuffle_corrected"] = mi_sc
    if mi_bc is not None:
        info["mi_stimulus_decision_bits_bias_corrected"] = mi_bc
    return {
        "mean_rate_hz": 5.0,
        "criticality": {"m": 0.9},
        "information": info,
        "response_energy": {"n_memories": 2, "mi_memory_stimulus_bits_plugin": 0.2},
    }


def test_headline_prefers_the_bias_corrected_information():
    # the shuffle correction subtracts independent variables' bias: under dependence it fell
    # below the Fano bound of the decoding accuracy (2.79 bits for >= 2.95)
    key = "network before training: I(stimulus; readout decision) (bits)"
    assert headline({"network": {"before_training": _stage(0.4, 0.85)}})[key] == 0.85
    assert headline({"network": {"before_training": _stage(0.4)}})[key] == 0.4
    assert headline({"network": {"before_training": _stage(None)}})[key] == 0.9
    (line,) = summary_lines({"network": {"after_training": _stage(0.4, 0.85)}})
    assert "= 0.85 bits (bias-corrected)" in line


def test_summary_falls_back_to_the_plug_in_information():
    # the analysis records shuffle_correction_error instead of the corrected value when the
    # correction fails; the summary printed after the run raised KeyError then
    (line,) = summary_lines({"network": {"after_training": _stage(None)}})
    assert "I(stimulus; decision) = 0.90 bits (plug-in) of 1.00" in line
    (line,) = summary_lines({"network": {"after_training": _stage(0.4)}})
    assert "= 0.40 bits (shuffle-corrected)" in line and "m = 0.900" in line
    for unresolved in (float("nan"), None):  # NaN in the run: "m = nan" was printed
        stage = _stage(0.4)
        stage["criticality"]["m"] = unresolved
        (line,) = summary_lines({"network": {"after_training": stage}})
        assert "m not resolved" in line


def test_the_image_summary_line_names_a_log_likelihood_and_no_d_min_of_one_memory():
    """The held-out numbers are log-likelihoods (negative): "-15.04 bits/patch held out" read
    as a code length; a single memory printed "d_min None"."""
    res = {
        "bits_per_patch_model_test": -13.13,
        "bits_per_patch_independent_test": -16.0,
        "gain_over_independent_bits": 2.87,
        "n_memories": 14,
        "min_distance": 2,
    }
    (line,) = summary_lines({"image_energy_4x4": res})
    assert line.startswith("4x4 patches: held-out log-likelihood -13.13 bits/patch (pairwise)")
    assert line.endswith("14 memories, d_min 2")
    (one,) = summary_lines({"image_energy_4x4": {**res, "n_memories": 1, "min_distance": None}})
    assert one.endswith("1 memory") and "None" not in one


def test_figure_order_lists_every_captioned_figure():
    for sizes in ([4], [4, 8]):
        order = figure_order(sizes)
        assert set(order) == set(captions(sizes)) and len(order) == len(set(order))


def test_a_rerun_over_a_finished_run_stopped_part_way_is_an_interrupted_run(tmp_path, monkeypatch):
    # its stages overwrote the old run's model and figures one by one: stopped part way, they
    # sat beside the old results and config, and a rerun was told "nothing was overwritten"
    import infodyn.experiments.pipeline.run as prun

    def network(cfg, run, progress, resume):
        return {"notes": []}

    def stopped(cfg, run, progress, resume):
        (run.path / "network_params.npz").write_bytes(b"the new run's")
        raise KeyboardInterrupt

    cfg = validate(PipelineConfig, {"stages": ["network", "report"], "training": {"seed": 0}})
    out = tmp_path / "run"
    monkeypatch.setattr(prun, "network_stage", network)
    prun.run_pipeline(cfg, out)
    assert (out / "results.json").exists() and (out / "report.html").exists()
    monkeypatch.setattr(prun, "network_stage", stopped)
    with pytest.raises(KeyboardInterrupt):
        prun.run_pipeline(cfg, out)
    assert not (out / "results.json").exists() and not (out / "report.html").exists()
    with pytest.raises(InputError, match="holds an interrupted images run .* changed nothing"):
        prun.run_pipeline(cfg, out)
    monkeypatch.setattr(prun, "network_stage", network)
    prun.run_pipeline(cfg, out, resume=True)
    assert (out / "results.json").exists() and not (out / "progress.json").exists()


def test_a_rerun_with_fewer_stages_leaves_no_figure_or_model_of_the_run_it_replaces(
    tmp_path, monkeypatch
):
    """A trained run's figures, weights and history stayed beside an untrained rerun's results
    (and a 3x3 model beside a rerun of 4x4 only); its report embedded them."""
    import infodyn.experiments.pipeline.run as prun
    from infodyn.plotting import pyplot

    def network(cfg, run, progress, resume):
        if cfg.training.enabled:  # what the trained run writes beside its results
            fig = pyplot().figure()
            run.savefig(fig, "network_training")
            (run.path / "network_params.npz").write_bytes(b"trained")
            (run.path / "training_history.json").write_text("[]")
        return {"notes": []}

    monkeypatch.setattr(prun, "network_stage", network)
    out = tmp_path / "run"
    prun.run_pipeline(validate(PipelineConfig, {"stages": ["network", "report"]}), out)
    (out / "image_3x3_model.npz").write_bytes(b"an earlier size's model")
    (out / "notes.txt").write_text("the user's own")
    assert "network_training" in (out / "report.html").read_text()
    untrained = {"stages": ["network", "report"], "training": {"enabled": False}}
    prun.run_pipeline(validate(PipelineConfig, untrained), out)
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert left == ["config.json", "notes.txt", "report.html", "results.json"]
    assert "network_training" not in (out / "report.html").read_text()
    # a folder of the user's own with a results.json of something else: nothing removed
    mine = tmp_path / "mine"
    (mine / "figures").mkdir(parents=True)
    for name in ("results.json", "figures/my_plot.png", "network_params.npz"):
        (mine / name).write_text("{}")
    with pytest.raises(InputError, match="holds results.json, network_params.npz but no"):
        prun.run_pipeline(validate(PipelineConfig, untrained), mine)
    (mine / "results.json").unlink()
    (mine / "network_params.npz").unlink()
    prun.run_pipeline(validate(PipelineConfig, untrained), mine)
    assert (mine / "figures" / "my_plot.png").exists()


def _refused_at_its_stimuli(tmp_path):
    """A config the stimulus stage refuses: one 6x6 image gives 9 4x4 patches of distinct
    contrast, and 12 stimuli are asked for."""
    tiny = tmp_path / "tiny.npy"
    np.save(tiny, np.random.default_rng(0).random((6, 6)))
    path = tmp_path / "c.toml"
    path.write_text(
        'stages = ["network"]\n'
        f"[images]\nimages = [{str(tiny)!r}]\nmin_contrast = 0.0\n"
        "[stimulus]\nsize = 4\nn_stimuli = 12\nmin_contrast = 0.0\n"
    )
    return path


def test_a_config_refused_mid_run_leaves_no_folder_behind_from_the_cli(tmp_path, capsys):
    """infodyn images made its --out folder before the pipeline (to refuse another command's
    folder before the display), so the pipeline took it as not fresh: a run refused at its
    stimulus stage left the folder with progress.json alone, and the corrected rerun was
    refused as an interrupted run of another config."""
    path = _refused_at_its_stimuli(tmp_path)
    out = tmp_path / "run"
    rc, _, err = cli_in_process(["images", str(path), "--out", str(out)], capsys)
    assert rc == 2 and "patches of distinct contrast" in err
    assert not out.exists()


def test_a_config_refused_mid_run_in_a_folder_of_the_users_lets_a_rerun_start(tmp_path, capsys):
    """In a folder that existed before (one the user made), a run refused part way kept its
    progress.json as an interrupted run's: the corrected rerun was refused ("pass --resume"),
    and --resume refused the corrected config. The journal now says the run failed, and a plain
    rerun starts afresh over it; the user's files stay."""
    path = _refused_at_its_stimuli(tmp_path)
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for _ in range(2):  # the second run meets the same stage, not the first run's journal
        rc, _, err = cli_in_process(["images", str(path), "--out", str(out)], capsys)
        assert rc == 2 and "patches of distinct contrast" in err, err
    assert json.loads((out / "progress.json").read_text())["failed"].startswith("the images give 9")
    assert (out / "notes.txt").read_text() == "mine"


def test_an_image_too_small_for_a_later_patch_is_refused_before_any_stage(tmp_path, capsys):
    """A 3x3 image was refused for the 4x4 stimuli ([stimulus] size, unnamed) only after the
    3x3 energy model had run and left its files."""
    tiny = tmp_path / "tiny.npy"
    np.save(tiny, np.random.default_rng(0).random((3, 3)))
    path = tmp_path / "c.toml"
    path.write_text(
        f"[images]\nimages = [{str(tiny)!r}]\nsizes = [3]\n[energy]\ndenoise_flips = [1]\n"
    )
    out = tmp_path / "run"
    rc, _, err = cli_in_process(["images", str(path), "--out", str(out)], capsys)
    assert rc == 2 and "smaller than the 4x4 patches of [stimulus] size" in err, err
    assert not out.exists()


def test_an_image_split_of_one_image_is_refused_in_the_configs_words(tmp_path, capsys):
    # it was refused as the library's argument ("split='image' needs at least two images")
    path = tmp_path / "c.toml"
    path.write_text('[images]\nimages = ["camera"]\nsplit = "image"\n')
    out = tmp_path / "run"
    rc, _, err = cli_in_process(["images", str(path), "--out", str(out)], capsys)
    assert rc == 2, err
    assert (
        '[images] split = "image" holds out whole images and needs at least two; got camera' in err
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("held_out", "whiten", "side", "band"),
    [(0.1, "none", "held-out", ""), (0.9, "none", "training", ""), (0.25, "dog", "held-out", "6")],
)
def test_a_region_split_without_room_is_refused_before_any_stage(
    tmp_path, capsys, held_out, whiten, side, band
):
    """A 40-pixel-wide image cut at 0.9 (36 | 4) has no room for 7x7 held-out patches; it was
    refused by the energy stage after the 2x2 model had run, as the library's held_out=0.1.
    With DoG whitening a guard band of 6 pixels lies on each side of the cut (30 | 10: 4 left)."""
    img = tmp_path / "narrow.npy"
    np.save(img, np.random.default_rng(0).random((40, 40)))
    path = tmp_path / "c.toml"
    path.write_text(
        f'stages = ["image_energy"]\n[images]\nimages = [{str(img)!r}]\nsizes = [2, 7]\n'
        f'held_out = {held_out}\nwhiten = "{whiten}"\n[energy]\ndenoise_flips = [1]\n'
    )
    out = tmp_path / "run"
    rc, _, err = cli_in_process(["images", str(path), "--out", str(out)], capsys)
    assert rc == 2, err
    assert f"leaves no image room for the 7x7 patches of [images] sizes on the {side} side" in err
    assert (f"{band}-pixel guard band of the DoG" in err) == bool(band), err
    assert not out.exists()


def test_the_headline_shows_the_decay_and_whether_m_is_meaningful_apart():
    """One label, "r_k decay exponentially (m meaningful)", showed the decay: True beside a
    meaningless m (None), False beside a meaningful one."""
    stage = _stage(0.4)
    stage["criticality"] = {"m": None, "exponential_decay_plausible": True, "meaningful": False}
    head = headline({"network": {"after_training": stage}})
    assert head["network after training: r_k decay exponentially"] is True
    assert head["network after training: m meaningful (MR estimator)"] is False
    assert not any("(m meaningful)" in k for k in head)
    # the estimator's "meaningful" beside slopes that do not decay, whose note says m is no
    # branching ratio there: "yes" stood beside that note
    stage["criticality"] = {"m": 0.18, "exponential_decay_plausible": False, "meaningful": True}
    head = headline({"network": {"after_training": stage}})
    assert head["network after training: m meaningful (MR estimator)"] is False


def test_an_unresolved_m_is_a_note_with_its_reason():
    """`demo --quick` printed "m not resolved" before and after training with no note: the
    reason was in criticality.warnings alone."""
    from infodyn.experiments.pipeline.analysis import criticality_notes

    said = ["a bin note", "the slopes r_k are indistinguishable from 0: m is not reported"]
    res = {"criticality": {"m": float("nan"), "warnings": said}}
    assert criticality_notes(res, "before training") == [
        "Network before training: m not resolved: the slopes r_k are indistinguishable from 0: "
        "m is not reported"
    ]


def test_the_resolved_network_lists_every_key_and_rebuilds_the_same_network():
    """config show (and the run's config.json) listed only the [network] keys set, although
    every LIF key is accepted there and the rest take LIF's defaults."""
    from infodyn.experiments.config import resolved

    cfg = validate(PipelineConfig, {"network": {"rec_scale": 2.0}})
    network = resolved(cfg)["network"]
    assert {"tau_out", "surrogate", "connectivity", "rec_scale"} <= set(network)
    assert "n_in" not in network and "n_out" not in network  # [stimulus] sets them
    again = validate(PipelineConfig, resolved(cfg))
    assert again.build_network() == cfg.build_network() and network["rec_scale"] == 2.0
