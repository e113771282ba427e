"""Every CLI command against every fault class: one line on stderr, exit 2, no traceback, and no
output that looks complete (issue 15). All cases run in ONE driver subprocess (see conftest).

Fault classes: unwritable output folder, output path is a file, input missing / empty /
truncated / garbage / a folder, a bad value or choice, absurd sizes (memory preflight),
corrupt checkpoint / metrics / run config, an edited config on resume, resuming what is not
there, starting afresh over an interrupted run. Interrupts: test_interrupts.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from faultkit import (
    assert_one_line_error,
    no_complete_looking_output,
    run_driver,
    unwritable_dir,
)

OUT_COMMANDS = {  # command -> its arguments before --out (a valid, tiny input)
    "simulate": ["simulate", "sim.toml"],
    "train": ["train", "train.toml"],
    "channel": ["channel", "channel.toml", "--quiet"],
    "images": ["images", "images.toml"],
    "demo": ["demo", "--quick"],
    "sweep": ["sweep", "sim.toml", "--grid", "network.rec_scale=1.0"],
    "energy": ["energy", "spikes.h5"],
    "criticality": ["criticality", "spikes.h5", "--n-boot", "0"],
    "info": ["info", "spikes.h5", "--shuffles", "0"],
}
CONFIG_COMMANDS = {  # command -> argv with CONFIG as {}
    "simulate": ["simulate", "{}", "--out", "o_{id}"],
    "train": ["train", "{}", "--out", "o_{id}"],
    "channel": ["channel", "{}", "--out", "o_{id}"],
    "images": ["images", "{}", "--out", "o_{id}"],
    "sweep": ["sweep", "{}", "--grid", "network.rec_scale=1.0", "--out", "o_{id}"],
    "config-show": ["config", "show", "{}"],
}
SPIKE_COMMANDS = {
    "energy": ["energy", "{}", "--out", "o_{id}"],
    "criticality": ["criticality", "{}", "--out", "o_{id}"],
    "info": ["info", "{}", "--out", "o_{id}"],
    "convert": ["convert", "{}", "o_{id}/spikes.h5"],
}


MEMORY_2G = {"INFODYN_MEMORY_LIMIT": "2G"}
# One row a case: id, command line (split on spaces), the words the error line must hold (split
# on "|"; {u} in either is the unwritable folder), and the environment (absurd sizes: a 2 GiB
# memory limit). An output folder o_* given to --out must not look complete after the failure.
TABLE = [
    # convert writes one file, not a run directory
    ("convert-unwritable-out", "convert spikes.h5 {u}/x.h5", "{u}"),
    ("convert-out-is-a-file", "convert spikes.h5 afile/x.h5", "afile"),
    ("convert-out-not-h5", "convert spikes.h5 x.npz", ".h5 or .hdf5"),
    ("convert-out-txt", "convert spikes.h5 out.txt", "out.txt"),
    ("convert-input-folder", "convert empty_dir o_conv.h5", "empty_dir"),
    ("convert-out-folder-is-a-file", "convert spikes.h5 afile/out.h5", "afile"),
    # choices and bounds, checked where they enter
    ("simulate-bad-engine", "simulate sim.toml --out o_eng --engine foo", "engine|'auto'"),
    ("sweep-batch-0", "sweep sim.toml --grid network.rec_scale=1 --out o_b0 --batch 0", "--batch"),
    ("sweep-unknown-command", "sweep sim.toml --out o_uc --command nope", "nope"),
    ("sweep-unknown-key", "sweep sim.toml --grid network.bogus=1 --out o_uk", "bogus"),
    # the base config's error named no file ("base config: [network.n_rec] ...")
    (
        "sweep-bad-base",
        "sweep sim_bad.toml --grid input.seed=1 --out o_sbb",
        "sim_bad.toml (base config)|n_rec",
    ),
    ("info-bad-estimator", "info spikes.h5 --out o_est --estimator foo", "estimator"),
    ("criticality-bad-method", "criticality spikes.h5 --out o_cm --method x", "'ts'"),
    ("energy-bad-method", "energy spikes.h5 --out o_em --method foo", "method"),
    ("images-bad-sizes", "images images.toml --out o_sz --sizes 4,x", "--sizes"),
    # refused before the run folder is made (a stage line and an empty folder came first)
    ("images-sizes-0", "images images.toml --out o_sz0 --sizes 0", "sizes must be"),
    ("images-unknown-image", "images images.toml --out o_img --image nope.png", "nope.png"),
    ("train-resume-no-folder", "train train.toml --out o_none --resume", "checkpoint"),
    ("train-allow-no-resume", "train train.toml --out o_acc --allow-config-change", "--resume"),
    ("config-init-unknown", "config init nope", "nope"),
    ("train-bad-optimizer", "train train_optimizer.toml --out o_opt", "training.optimizer"),
    ("train-nan-loss-weight", "train train_nan.toml --out o_nan", "weight|nan"),
    ("report-missing-dir", "report no_such_run", "no_such_run"),
    ("unknown-option", "simulate sim.toml --out o_opt2 --bogus", "--bogus"),
    # absurd sizes: refused by the memory preflight with the numbers
    ("images-sizes-100", "images images.toml --out o_big --sizes 100", "100x100|GiB", MEMORY_2G),
    ("simulate-n-rec-1e5", "simulate sim_huge.toml --out o_huge", "GiB", MEMORY_2G),
    ("train-n-rec-1e5", "train train_huge.toml --out o_thuge", "GiB", MEMORY_2G),
    # checkpoints and resume
    (
        "train-resume-truncated-checkpoint",
        "train train.toml --out ck_truncated --resume",
        "checkpoint.npz",
    ),
    ("train-resume-empty-checkpoint", "train train.toml --out ck_empty --resume", "checkpoint.npz"),
    ("train-resume-corrupt-metrics", "train train.toml --out ck_metrics --resume", "metrics.json"),
    ("train-resume-corrupt-config", "train train.toml --out ck_config --resume", "config.json"),
    (
        "train-resume-edited-config",
        "train train_edited.toml --out ck_edited --resume",
        "training.lr|--allow-config-change",
    ),
    ("train-resume-nothing", "train train.toml --out empty_dir --resume", "checkpoint"),
    ("train-over-checkpoint", "train train.toml --out trained", "--resume"),
    (
        "channel-resume-other-config",
        "channel channel.toml --out ch_other --resume",
        "progress.json|different",
    ),
    (
        "channel-resume-corrupt-journal",
        "channel channel.toml --out ch_corrupt --resume",
        "progress.json",
    ),
    ("channel-fresh-over-interrupted", "channel channel.toml --out ch_other", "--resume"),
]
INPUT_FAULTS = {  # fault -> (config file, spike file) that has it
    "missing": ("sim_missing.toml", "spikes_missing.h5"),
    "empty": (None, "spikes_empty.h5"),
    "truncated": ("train_truncated.toml", "spikes_truncated.h5"),
    "garbage": ("sim_garbage.toml", "spikes_garbage.h5"),
    "folder": ("empty_dir", "empty_dir"),
}


def _cases(unwritable: str) -> list[tuple]:
    """(id, argv, env, out folder or None, words the error line must contain)."""
    cases = []
    for cmd, head in OUT_COMMANDS.items():
        cases.append(
            (f"{cmd}-unwritable-out", [*head, "--out", f"{unwritable}/out"], {}, None, [unwritable])
        )
        cases.append((f"{cmd}-out-is-a-file", [*head, "--out", "afile"], {}, None, ["afile"]))
    for kind, commands in (("config", CONFIG_COMMANDS), ("spikes", SPIKE_COMMANDS)):
        for cmd, argv in commands.items():
            for fault, files in INPUT_FAULTS.items():
                path = files[kind == "spikes"]
                if path is not None:
                    cid = f"{cmd}-{kind}-{fault}"
                    argv_ = [a.format(path, id=cid) for a in argv]
                    cases.append((cid, argv_, {}, f"o_{cid}", [path]))
    for fault in ("missing", "empty", "truncated", "garbage"):  # convert IN OUT.h5
        path = f"spikes_{fault}.h5"
        cases.append(
            (f"convert-input-{fault}", ["convert", path, f"o_conv_{fault}.h5"], {}, None, [path])
        )
    for cid, line, words, *env in TABLE:
        argv = [a.format(u=unwritable) for a in line.split()]
        out = argv[argv.index("--out") + 1] if "--out" in argv else None
        out = out if out is not None and out.startswith("o_") else None
        words = [w.format(u=unwritable) for w in words.split("|")]
        cases.append((cid, argv, env[0] if env else {}, out, words))
    return cases


def _extra_inputs(ws: Path) -> None:
    train = (ws / "train.toml").read_text()
    (ws / "train_optimizer.toml").write_text(train + 'optimizer = "foo"\n')
    (ws / "train_nan.toml").write_text(train + '[[loss]]\nkind = "rate_reg"\nweight = nan\n')
    huge = "[network]\nn_in = 3\nn_rec = 100000\n[input]\nn_steps = 10\n"
    (ws / "sim_huge.toml").write_text(huge)
    (ws / "sim_bad.toml").write_text("[network]\nn_rec = -3\n")
    (ws / "train_huge.toml").write_text(train.replace("n_rec = 8", "n_rec = 100000"))


@pytest.fixture(scope="module")
def cli_results(workspace):
    _extra_inputs(workspace)
    cases = _cases(str(unwritable_dir(workspace)))
    payload = [{"id": c[0], "argv": c[1], "env": c[2]} for c in cases]
    payload += [{"id": cid, "argv": argv, "env": {}} for cid, argv, _ in OK_CASES]
    return run_driver(payload, workspace)


@pytest.mark.parametrize("case", _cases("UNWRITABLE"), ids=lambda case: case[0])
def test_cli_fault_is_one_line_exit_2(case, cli_results, workspace):
    cid, argv, env, out, words = case
    unwritable = str(unwritable_dir(workspace))
    words = [w.replace("UNWRITABLE", unwritable) for w in words]
    assert_one_line_error(cli_results[cid], *words)
    if out is not None:
        no_complete_looking_output(workspace / out)


@pytest.mark.parametrize("out", ["o_sz0", "o_img", "o_none"])
def test_refused_before_the_run_folder_is_made(out, cli_results, workspace):
    assert not (workspace / out).exists()


def test_every_command_is_covered():
    """Each registered CLI command meets at least the output faults or input faults."""
    from infodyn.cli import COMMAND_MODULES

    covered = {c[0].split("-")[0] for c in _cases("x")}
    assert set(COMMAND_MODULES) <= covered | {"config"}, set(COMMAND_MODULES) - covered


def test_jax_platform_without_device_is_one_line(tmp_path):
    """``JAX_PLATFORMS=cuda`` on a machine without a GPU: one line, exit 2 (a real process)."""
    import subprocess
    import sys

    import jax

    try:
        jax.devices("cuda")
        pytest.skip("this machine has a CUDA device")
    except RuntimeError:
        pass
    env = {**os.environ, "JAX_PLATFORMS": "cuda"}
    proc = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "simulate", "x.toml", "--out", str(tmp_path / "o")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    res = {"rc": proc.returncode, "stderr": proc.stderr}
    assert_one_line_error(res, "JAX_PLATFORMS='cuda'")


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
OK_CASES = [  # (id, argv, words stdout must hold): output that used to mislead
    ("report-corrupt-results", ["report", "bad_run"], ["report.html"]),
    ("help-keeps-brackets", ["simulate", "--help"], ["[network], [input], [simulation]"]),
    ("config-init-energy", ["config", "init", "energy"], ['spikes = "spikes.h5"']),
    ("config-show-images", ["config", "show", str(EXAMPLES / "images.toml")], ["infodyn images"]),
    ("config-show-channel", ["config", "show", str(EXAMPLES / "channel.toml")], ["[channel]"]),
    (
        "info-summary",
        ["info", "spikes.h5", "--out", "o_info", "--shuffles", "2"],
        ["(shuffle-corrected)"],
    ),
]


@pytest.mark.parametrize("case", OK_CASES, ids=[c[0] for c in OK_CASES])
def test_cli_output_is_not_misleading(case, cli_results):
    cid, _, words = case
    res = cli_results[cid]
    assert res["rc"] == 0 and "Traceback" not in res["stderr"], res
    for w in words:
        assert w in res["stdout"], (w, res["stdout"][-2000:])


def test_info_summary_line_matches_results(cli_results, workspace):
    import json

    pop = json.loads((workspace / "o_info" / "results.json").read_text())["population"]
    line = cli_results["info-summary"]["stdout"]
    assert f"TC {pop['total_correlation_corrected']:.3f}" in line, line


def test_report_of_a_corrupt_run_says_so(cli_results, workspace):
    """A report is still written for a run whose results.json is corrupt, and it says so."""
    res = cli_results["report-corrupt-results"]
    assert res["rc"] == 0 and "Traceback" not in res["stderr"], res
    html = (workspace / "bad_run" / "report.html").read_text()
    assert "results.json could not be read" in html
    assert "warning: " in res["stderr"] and "results.json could not be read" in res["stderr"]
