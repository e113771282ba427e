"""`infodyn sweep` on the command line: what it refuses before its cluster starts."""

import json
import time

from faultkit import cli_in_process


def test_a_run_record_as_base_config_names_the_command_that_made_it(tmp_path, monkeypatch, capsys):
    """A sweep's own config.json as the base was "[command] unknown key; [base] unknown key;
    [--grid] unknown key; ..."; a simulate run's record swept as energy listed unknown keys."""
    monkeypatch.chdir(tmp_path)
    record = {"command": "sweep", "config": {"command": "simulate", "base": {}, "grid": {}}}
    (tmp_path / "sweep.json").write_text(json.dumps(record))
    (tmp_path / "sim.json").write_text(json.dumps({"command": "simulate", "config": {}}))
    cases = (
        ("sweep.json", "simulate", "the record of an `infodyn sweep` run, a command that takes"),
        ("sim.json", "energy", "the record of an `infodyn simulate` run; sweep it with --command"),
    )
    for base, command, said in cases:
        argv = ["sweep", base, "--command", command, "--grid", "seed=1,2", "--out", "sw"]
        rc, _, err = cli_in_process(argv, capsys)
        assert rc == 2 and said in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "sw").exists()


def test_a_missing_scheduler_file_is_named_at_once(tmp_path, monkeypatch, capsys):
    # was "cannot reach the Dask scheduler at 'sched.json' within 10 s (ValueError: missing
    # port number)"; it is waited for as long as a scheduler is (--connect-timeout)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.toml").write_text("[input]\nn_steps = 20\n")
    argv = ["sweep", "base.toml", "--grid", "input.seed=1,2", "--out", "sw"]
    start = time.monotonic()
    options = ["--scheduler", "sched.json", "--connect-timeout", "0.5"]
    rc, _, err = cli_in_process([*argv, *options], capsys)
    assert rc == 2 and "--scheduler sched.json: no such scheduler file (waited 0.5 s" in err
    assert not (tmp_path / "sw").exists() and time.monotonic() - start < 10
