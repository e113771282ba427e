"""Config validation errors name the bad key; resolved configs round-trip through TOML."""

import json
import tomllib

import pytest
from faultkit import cli_in_process
from typer.testing import CliRunner

from infodyn.errors import InputError
from infodyn.experiments.config import (
    SimulateConfig,
    describe_fields,
    detect_command,
    load_config,
    resolved,
    validate,
    with_overrides,
)
from infodyn.experiments.pipeline.config import PipelineConfig
from infodyn.experiments.toml_write import to_toml


def _write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[input]\nfoo = 1\n", "[input.foo] unknown key"),
        ("[network]\nn_rec = 10\nfoo = 1\n", "[network.foo] unknown key"),
        ("[network]\nn_rec = -3\n", "[network.n_rec]"),
        ("[network]\nmodel = 'izhikevich'\n", "[network.model]"),
        ("[network]\nmodel = 'alif'\nn_rec = 4\nn_alif = 9\n", "n_alif=9 exceeds n_rec=4"),
        ("[input]\nn_steps = 'long'\n", "[input.n_steps] got 'long': text is not a number"),
        ("[input]\nkind = 'sine'\n", "[input.kind]"),
        ("[simulation]\nengine = 'gpu'\n", "[simulation.engine]"),
        ("[bogus]\na = 1\n", "[bogus] unknown key"),
        ("network = 3\n", "[network]"),
    ],
)
def test_validation_errors_name_the_key(tmp_path, text, needle):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_config(path, SimulateConfig)
    assert needle in str(err.value)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(InputError, match="no such config file"):
        load_config(tmp_path / "nope.toml", SimulateConfig)
    with pytest.raises(InputError, match="invalid TOML"):
        load_config(_write(tmp_path, "[network\n"), SimulateConfig)


@pytest.mark.parametrize(
    "text",
    [
        "[network]\nn_rec = 7\nrec_scale = 0.5\n",
        "[network]\nmodel = 'alif'\nn_rec = 6\nn_alif = 3\n[input]\nkind = 'current'\n",
        "",
    ],
)
def test_resolved_toml_round_trip(text):
    cfg = validate(SimulateConfig, tomllib.loads(text))
    full = resolved(cfg)
    shown = to_toml(full, describe_fields(cfg))
    again = validate(SimulateConfig, tomllib.loads(shown))
    assert resolved(again) == full
    # every default of the network model is spelled out, with units where documented
    assert full["network"]["tau_m"] == 30.0
    assert "time step in ms" in shown
    net, net2 = cfg.build_network(), again.build_network()
    assert net == net2 and type(net) is type(net2)


def test_detect_command_reports_best_match(tmp_path):
    assert detect_command({"network": {"n_rec": 5}}).name == "simulate"
    with pytest.raises(InputError, match=r"\[input.rate_hz\]"):
        detect_command({"input": {"rate_hz": -1.0}})


def test_config_show_cli(tmp_path):
    from infodyn.cli import app

    path = _write(tmp_path, "[network]\nn_rec = 12\n[input]\nrate_hz = 20.0\n")
    res = CliRunner().invoke(app, ["config", "show", str(path)])
    assert res.exit_code == 0, res.output
    data = tomllib.loads(res.output)
    assert data["network"]["n_rec"] == 12 and data["input"]["rate_hz"] == 20.0
    assert data["simulation"]["engine"] == "auto"
    res = CliRunner().invoke(app, ["config", "show", str(path), "--json"])
    assert '"command": "simulate"' in res.output


def test_config_show_bad_key_exit_2(tmp_path):
    import subprocess
    import sys

    path = _write(tmp_path, "[network]\nn_recc = 12\n")
    proc = subprocess.run(
        [sys.executable, "-c", "from infodyn.cli import main; main()", "config", "show", str(path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "[network.n_recc] unknown key" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_registry_tolerates_a_missing_command_module():
    from infodyn.experiments.config import COMMANDS, CommandSpec, get_command, register_command

    register_command(CommandSpec("ghost", config="no_such_module:Cfg", run="no_such_module:run"))
    try:
        assert detect_command({"network": {"n_rec": 5}}).name == "simulate"
        with pytest.raises(InputError, match="cannot import 'no_such_module'"):
            get_command("ghost").config_model()
        with pytest.raises(InputError, match="unknown command 'nope'"):
            get_command("nope")
    finally:
        COMMANDS.pop("ghost")
    with pytest.raises(InputError, match="has no attribute 'Nope'"):
        CommandSpec("x", config="infodyn.experiments.config:Nope", run="").config_model()


def test_config_init_is_a_valid_default_config(tmp_path):
    from infodyn.cli import app

    res = CliRunner().invoke(app, ["config", "init", "simulate"])
    assert res.exit_code == 0, res.output
    data = tomllib.loads(res.output)
    assert resolved(validate(SimulateConfig, data)) == resolved(validate(SimulateConfig, {}))
    res = CliRunner().invoke(app, ["config", "list"])
    assert "simulate: config infodyn.experiments.config:SimulateConfig" in res.output


def test_config_init_train_is_the_example_that_learns():
    """``config init train`` printed the bare defaults, under which the loss rose to 840 and
    the readout ended no better than a constant; it prints the pattern-generation example's
    settings now (tests/learning/test_trainer.py shows that file lowering the MSE >= 10x),
    naming the keys that differ from the defaults at its top."""
    from pathlib import Path

    from infodyn.cli import app
    from infodyn.cli.config import STARTERS
    from infodyn.experiments.resume import changed_keys
    from infodyn.experiments.train_run import TrainConfig

    res = CliRunner().invoke(app, ["config", "init", "train"])
    assert res.exit_code == 0, res.output
    printed = resolved(validate(TrainConfig, tomllib.loads(res.output)))
    example = Path(__file__).resolve().parents[2] / "examples" / "train_pattern_generation.toml"
    assert changed_keys(printed, resolved(load_config(example, TrainConfig))) == []
    differ = changed_keys(resolved(validate(TrainConfig, {})), printed)
    starters = STARTERS["train"]
    assert differ and all(any(k == s or k.startswith(f"{s}.") for s in starters) for k in differ)
    assert all(key in res.output.splitlines()[0] for key in STARTERS["train"])


def _leaf_keys(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict) and value:
            yield from _leaf_keys(value, f"{prefix}{key}.")
        else:
            yield prefix + key


@pytest.mark.parametrize("name", ["simulate", "train", "energy", "images", "channel"])
def test_every_default_config_is_documented_and_reads_back(name):
    """What ``config init`` prints (and the docs' config reference shows) is the default config
    itself, and every key in it carries a comment: its units, meaning or allowed values."""
    import infodyn.cli  # noqa: F401  (registers every command)
    from infodyn.experiments.config import COMMANDS, default_config_toml

    assert set(COMMANDS) == {"simulate", "train", "energy", "images", "channel"}
    spec = COMMANDS[name]
    default = validate(spec.config_model(), dict(spec.required_example))
    text = default_config_toml(name)
    assert resolved(validate(spec.config_model(), tomllib.loads(text))) == resolved(default)
    notes = describe_fields(default)
    missing = [k for k in _leaf_keys(resolved(default)) if not notes.get(k)]
    assert not missing, f"{name}: keys without a description: {missing}"
    for line in text.splitlines():  # and each of them reaches the printed file
        if " = " in line and not line.startswith("["):
            assert "  # " in line, line


def test_alif_and_free_form_sections_are_documented():
    from infodyn.experiments.train_run import TrainConfig

    cfg = validate(SimulateConfig, {"network": {"model": "alif", "connectivity": "ei"}})
    notes = describe_fields(cfg)
    assert {"network.tau_a", "network.beta_a", "network.n_alif", "network.p_ee"} <= set(notes)
    assert "'alif'" in notes["network.model"]
    notes = describe_fields(validate(TrainConfig, {}))
    assert "'evidence_accumulation'" in notes["task.kind"] and "'infomax'" in notes["loss"]


def test_input_errors_name_the_input_table():
    # "amplitude must lie ..." and "rate x dt exceeds ..." named no table of the config
    from infodyn.errors import InputError
    from infodyn.experiments.config import InputConfig, make_input

    cfg = InputConfig(kind="current", amplitude=1e308, n_steps=10)
    with pytest.raises(InputError, match=r"^\[input\] amplitude must lie within"):
        make_input(cfg, n_in=3, dt=1.0)


def test_make_input_checks_memory_before_drawing(monkeypatch):
    from infodyn.experiments.config import InputConfig, make_input
    from infodyn.memory import MemoryPreflightError

    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "64M")
    cfg = InputConfig(n_steps=10_000_000, rate_hz=5.0)
    with pytest.raises(MemoryPreflightError, match="input of 10,000,000 steps x 100 channels"):
        make_input(cfg, n_in=100, dt=1.0)
    assert make_input(InputConfig(n_steps=50, rate_hz=5.0), n_in=3, dt=1.0).shape == (50, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[input]\nkind = "current"\namplitude = nan\n', r"\[input.amplitude\] .*finite"),
        ("[input]\nrate_hz = inf\n", r"\[input.rate_hz\] .*finite"),
        ("[input]\nn_steps = true\n", r"\[input.n_steps\] got true: true/false is not a number"),
        ("[input]\nrate_hz = false\n", r"\[input.rate_hz\] got false"),
        ("[network]\nn_rec = true\n", r"\[network.n_rec\] got true"),
        # text for a number was read as the number by pydantic's lax mode
        ('[network]\nn_in = "20"\n', r"\[network.n_in\] got '20': text is not a number"),
        ('[input]\nrate_hz = "5"\n', r"\[input.rate_hz\] got '5': text is not a number"),
        ('[simulation]\nseed = "3"\n', r"\[simulation.seed\] got '3'"),
        ("[input]\nn_steps = 1" + "0" * 5000 + "\n", "invalid TOML .*digits"),
        # it passed config show, and the run refused it without naming the key
        ("[input]\nn_steps = 1" + "0" * 20 + "\n", r"\[input.n_steps\] got 1000.*64-bit"),
        # once, by key (the [network] table is checked by the network model alone)
        ("[network]\nn_rec = 1" + "0" * 20 + "\n", r"toml: \[network.n_rec\] got 10*: more [^;]*$"),
        (
            "a = " + "[" * 50000 + "]" * 50000 + "\n",
            r"invalid TOML \(arrays or tables nested too deeply",
        ),
    ],
)
def test_config_refuses_nan_inf_bool_numbers_and_extreme_toml(text, message, tmp_path):
    # each was accepted (nan/inf failed later without the key; true read as 1) or crashed
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(InputError, match=message):
        load_config(tmp_path / "c.toml", SimulateConfig)


def test_a_paths_tilde_is_the_home_folder(tmp_path, monkeypatch):
    """`spikes = "~/x.h5"` was read as a folder named "~" here (a wrong file where one
    existed, else "no such file")."""
    from infodyn.experiments.energy_run import EnergyRunConfig
    from infodyn.experiments.pipeline import PipelineConfig

    monkeypatch.setenv("HOME", str(tmp_path))
    assert validate(EnergyRunConfig, {"spikes": "~/x.h5"}).spikes == str(tmp_path / "x.h5")
    images = validate(PipelineConfig, {"images": {"images": ["~/a.png", "camera"]}}).images
    assert images.images == [str(tmp_path / "a.png"), "camera"]
    sim = validate(SimulateConfig, {"simulation": {"params": "~/w.npz"}}).simulation
    assert sim.params == str(tmp_path / "w.npz")


def test_a_list_item_beyond_64_bits_is_refused_by_key():
    from infodyn.experiments.pipeline import PipelineConfig

    with pytest.raises(InputError, match=r"\[images.sizes\] got 10*: more than a 64-bit"):
        validate(PipelineConfig, {"images": {"sizes": [4, 10**20]}})


def test_train_config_refuses_nan_and_bool_in_tables():
    from infodyn.experiments.train_run import TrainConfig

    with pytest.raises(InputError, match=r"\[training.lr_scale.w_rec\] .*finite"):
        validate(TrainConfig, {"training": {"lr_scale": {"w_rec": float("nan")}}})
    with pytest.raises(InputError, match=r"\[training.seed\] .*greater than or equal to 0"):
        validate(TrainConfig, {"training": {"seed": -1}})
    with pytest.raises(InputError, match=r"\[training.lr_scale\] got \{'w_rec': true\}"):
        validate(TrainConfig, {"training": {"lr_scale": {"w_rec": True}}})
    assert validate(TrainConfig, {"training": {"lr": 1e-3}}).training.lr == 1e-3
    # a misspelt weight name was "[training.lr_scale.wrec.[key]] Input should be ..."
    with pytest.raises(InputError, match=r": \[training.lr_scale\] key 'wrec': Input should be"):
        validate(TrainConfig, {"training": {"lr_scale": {"wrec": 0.5}}})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"input": {"seed": -1}}, r"\[input.seed\] .*greater than or equal to 0"),
        (
            {"simulation": {"seed": 10**23}},
            r"\[simulation.seed\] .*less than or equal to 4294967295",
        ),
    ],
)
def test_seeds_are_whole_numbers_in_the_32_bit_range(section, message):
    # -1 and 10^23 failed deep inside NumPy or Numba (ValueError, TypingError)
    with pytest.raises(InputError, match=message):
        validate(SimulateConfig, section)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"network": {"n_in": 5}}, r"\[network.n_in\] must be 32 for \[stimulus\] size = 4"),
        ({"stimulus": {"trial_ms": 40, "response_start_ms": 40}}, "must be less than trial_ms"),
        ({"images": {"sizes": []}}, r"\[images\] sizes is empty"),
        ({"images": {"images": [""]}}, r"\[images\] images holds an empty name"),
        ({"images": {"seed": -1}}, r"\[images.seed\]"),
    ],
)
def test_pipeline_config_errors_found_at_load_time(data, message):
    # each was found only after the image stage ran (leaving an "interrupted" run folder), or
    # not at all (no sizes: no image results and no note; "": every file of the folder read)
    from infodyn.experiments.pipeline.config import PipelineConfig

    with pytest.raises(InputError, match=message):
        validate(PipelineConfig, data)


def test_with_overrides_leaves_out_none_and_validates_the_rest():
    """with_overrides docstring: None values are left out (an option not given keeps the
    config's value); the others replace their dotted key and are validated again."""
    cfg = validate(SimulateConfig, {"input": {"rate_hz": 20.0}, "simulation": {"engine": "event"}})
    updates = {"simulation.engine": None, "input.rate_hz": None, "input.n_steps": 7}
    new = with_overrides(cfg, updates)
    assert (new.simulation.engine, new.input.rate_hz, new.input.n_steps) == ("event", 20.0, 7)
    with pytest.raises(InputError, match=r"--engine: \[simulation.engine\]"):
        with_overrides(cfg, {"simulation.engine": "gpu"}, source="--engine")


def test_config_show_validates_as_the_command_given(tmp_path, capsys):
    """G1 (tests/experiments/test_config.py): ``--command train`` resolves the config as
    train's (with [training] defaults), although on its own it would validate as simulate."""
    path = tmp_path / "c.toml"
    path.write_text("[network]\nn_rec = 12\n")
    rc, out, err = cli_in_process(["config", "show", path, "--json"], capsys)
    assert rc == 0 and json.loads(out)["command"] == "simulate", err
    rc, out, err = cli_in_process(["config", "show", path, "--command", "train", "--json"], capsys)
    assert rc == 0, err
    data = json.loads(out)
    assert data["command"] == "train" and data["config"]["training"]["method"] == "eprop"
    assert data["config"]["network"]["n_rec"] == 12


def test_pipeline_sizes_of_one_pixel_are_refused_at_load_time():
    """check_sections: patch sides must be >= 2 pixels (1 failed only inside the stage)."""
    with pytest.raises(InputError, match=r"sizes must be patch sides >= 2 pixels, got \[1\]"):
        validate(PipelineConfig, {"images": {"sizes": [4, 1]}})
    # 2 is the smallest side allowed (its 4 pixels take denoising by 1 flip, not the default 3)
    validate(PipelineConfig, {"images": {"sizes": [2]}, "energy": {"denoise_flips": [1]}})


def test_network_checks_apply_when_the_image_stage_is_off():
    """[network] n_in must equal the ON/OFF channels whenever the network stage runs, also
    without the image stage (stages = ["network"])."""
    with pytest.raises(InputError, match=r"\[network.n_in\] must be 32"):
        validate(PipelineConfig, {"stages": ["network"], "network": {"n_rec": 10, "n_in": 5}})


def test_pipeline_sizes_given_twice_are_refused():
    # --sizes 4,4 fitted the same 4x4 model twice (17 s against 12 s), one result kept
    with pytest.raises(InputError, match=r"\[images\] sizes lists \[4\] more than once"):
        validate(PipelineConfig, {"images": {"sizes": [4, 8, 4]}})


@pytest.mark.parametrize(
    "model, data, errors",
    [
        (
            SimulateConfig,
            {"network": {"n_rec": "x", "foo": 1}, "input": {"n_steps": 0}},
            ["[network.n_rec] got 'x'", "[network.foo] unknown key", "[input.n_steps]"],
        ),
        (SimulateConfig, {"network": {"foo": 1}, "bar": {}}, ["[network.foo]", "[bar]"]),
        (
            "train",
            {"network": {"tau_m": -1.0}, "training": {"lr": "fast"}},
            ["[network.tau_m]", "[training.lr]"],
        ),
        (
            "train",
            {
                "task": {"kind": "nope"},
                "loss": [{"kind": "mse", "wieght": 1.0}],
                "training": {"lr": "fast"},
            },
            ["[task.kind] must be one of", "[[loss]] loss 'mse' has no option", "[training.lr]"],
        ),
        (
            PipelineConfig,
            {"network": {"n_recc": 60}, "stimulus": {"size": 0}},
            ["[network.n_recc] unknown key", "[stimulus.size]"],
        ),
    ],
)
def test_a_bad_free_form_network_is_named_with_the_other_sections_errors(model, data, errors):
    """The free-form sections ([network]; train's [task] and [[loss]]) were built only once the
    rest validated, so a config with errors in both named the other sections' alone: fixed
    one run at a time."""
    if model == "train":
        from infodyn.experiments.train_run import TrainConfig as model
    with pytest.raises(InputError) as err:
        validate(model, data, source="c.toml")
    message = str(err.value)
    assert message.startswith(f"c.toml: {errors[0]}") and "\n" not in message
    positions = [message.index(e) for e in errors]
    assert positions == sorted(positions), message  # [network] first, as in the file


def test_a_good_free_form_network_adds_nothing_to_the_other_errors():
    with pytest.raises(InputError) as err:
        validate(SimulateConfig, {"network": {"n_rec": 5}, "input": {"n_steps": 0}}, source="")
    assert str(err.value).startswith("[input.n_steps]") and "network" not in str(err.value)


def test_the_starter_leaves_p_connect_unset_so_that_sparse_asks_for_it():
    """The starter wrote p_connect = 1.0: turning connectivity to "sparse" then drew every
    synapse (the guard asking for k_in or p_connect saw p_connect given)."""
    import tomllib

    from infodyn.experiments.config import SimulateConfig, default_config_toml, validate

    text = default_config_toml("simulate")
    assert "# p_connect = (unset)" in text
    validate(SimulateConfig, tomllib.loads(text))  # the starter itself is valid
    sparse = text.replace('\nconnectivity = "dense"', '\nconnectivity = "sparse"')
    with pytest.raises(InputError, match="needs k_in .* or p_connect"):
        validate(SimulateConfig, tomllib.loads(sparse))


def test_a_step_too_coarse_for_filtered_noise_names_the_networks_dt():
    """The refusal named the kernel's rate ``a`` ("use a <= 0.05"), which no config sets;
    ``[network] dt`` is what to change."""
    from infodyn.experiments.config import make_input

    def cfg(dt):
        data = {
            "network": {"n_in": 3, "n_rec": 5, "dt": dt},
            "input": {"kind": "filtered_noise", "rate_hz": 10.0, "n_steps": 100},
        }
        return validate(SimulateConfig, data).input

    with pytest.raises(InputError, match=r"^\[network\] dt = 20 ms is too coarse .* dt <= 15 ms"):
        make_input(cfg(20.0), 3, 20.0)
    assert make_input(cfg(15.0), 3, 15.0).shape == (100, 3)  # the largest step it resolves


def test_a_runs_config_json_reruns_it(tmp_path, capsys):
    """A run's config.json (the resolved config it records) was refused as invalid TOML, so a
    run could not be reproduced from its own record."""
    import numpy as np

    from infodyn.data import load_spikes

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[network]\nn_in = 4\nn_rec = 6\n[input]\nn_steps = 50\nrate_hz = 80.0\n"
        "[simulation]\nengine = 'event'\n"
    )
    assert cli_in_process(["simulate", cfg, "--out", tmp_path / "a"], capsys)[0] == 0
    record = tmp_path / "a" / "config.json"
    assert cli_in_process(["simulate", record, "--out", tmp_path / "b"], capsys)[0] == 0
    a, b = (load_spikes(tmp_path / run / "spikes.h5") for run in "ab")
    assert a.n_spikes > 0 and np.array_equal(a.to_dense(), b.to_dense())
    shown = cli_in_process(["config", "show", record], capsys)
    assert shown[0] == 0 and "n_rec = 6" in shown[1]
    train_record = tmp_path / "t.json"  # a record of another command: named, not key errors
    train_record.write_text(json.dumps({"command": "train", "config": {"network": {}}}))
    rc, _, err = cli_in_process(["simulate", train_record, "--out", tmp_path / "t"], capsys)
    assert rc == 2 and "the record of an `infodyn train` run; rerun it with" in err, err
    # config show guessed a command from the keys: "[estimator] unknown key; ..." for an
    # info run's record, and it showed a train run's record as --command simulate's
    rc, _, err = cli_in_process(["config", "show", train_record, "--command", "simulate"], capsys)
    assert rc == 2 and "not of `infodyn simulate`; show it with --command train" in err, err
    info_record = tmp_path / "i.json"
    info_record.write_text(json.dumps({"command": "info", "config": {"estimator": "nsb"}}))
    for args in (["config", "show", info_record], ["simulate", info_record, "--out", tmp_path]):
        rc, _, err = cli_in_process(args, capsys)
        assert rc == 2 and "an `infodyn info` run, a command that takes no config file" in err
    other = tmp_path / "other.json"
    other.write_text('{"network": {"n_rec": 6}}')
    rc, _, err = cli_in_process(["simulate", other, "--out", tmp_path / "c"], capsys)
    assert rc == 2 and "a JSON config must be a run's config.json" in err
