"""Grid parsing and expansion: types, linspace, seeds, validation naming the key."""

import pytest

from infodyn.errors import InputError
from infodyn.experiments.config import get_command
from infodyn.experiments.grid import config_hash
from infodyn.experiments.sweep import expand_grid, flatten, parse_grid

BASE = {"network": {"n_in": 5, "n_rec": 8}, "input": {"n_steps": 50, "seed": 10}}


def test_parse_grid_types_and_ranges():
    grid = parse_grid(
        ["network.rec_scale=0.5,1", "network.connectivity=ei,dense", "a.b=true", "x=0:1:5"]
    )
    assert grid["network.rec_scale"] == [0.5, 1]
    assert grid["network.connectivity"] == ["ei", "dense"]
    assert grid["a.b"] == [True]
    assert grid["x"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # numbers TOML does not write were text, refused as "write the number without quotes"
    assert parse_grid(["network.rec_scale=.5,5.,1e-3"]) == {"network.rec_scale": [0.5, 5.0, 1e-3]}
    # a quoted value with two colons is one value, not START:STOP:NUM ("needs numbers")
    assert parse_grid(['spikes="rec_10:30:00.h5"']) == {"spikes": ["rec_10:30:00.h5"]}


@pytest.mark.parametrize(
    ("item", "msg"),
    [
        ("nokey", "KEY=V1"),
        ("=1,2", "KEY=V1"),
        ("a..b=1", "dotted"),
        ("x=0:1:0", "NUM >= 1"),
        ("x=1:inf:3", "START and STOP must be finite"),  # NaN points, NumPy warnings
        ("x=nan:2:3", "START and STOP must be finite"),
    ],
)
def test_parse_grid_errors(item, msg):
    with pytest.raises(InputError, match=msg):
        parse_grid([item])
    with pytest.raises(InputError, match="twice"):
        parse_grid(["a=1", "a=2"])


def test_expand_grid_seeds_and_names():
    spec = get_command("simulate")
    grid = {"network.rec_scale": [0.5, 1.0], "input.rate_hz": [10.0, 20.0, 30.0]}
    points = expand_grid(spec, BASE, grid, seeds=2)
    assert len(points) == 12
    assert len({p.key for p in points}) == 12 and len({p.name for p in points}) == 12
    p = points[5]  # rec_scale=0.5, rate 30, seed 1
    assert p.values == {"network.rec_scale": 0.5, "input.rate_hz": 30.0} and p.seed == 1
    assert p.config["network"]["rec_scale"] == 0.5 and p.config["input"]["rate_hz"] == 30.0
    assert p.config["simulation"]["seed"] == 1 and p.config["input"]["seed"] == 11
    # the base config is not mutated and every default is resolved
    assert BASE["network"] == {"n_in": 5, "n_rec": 8}
    assert p.config["network"]["tau_m"] == 30.0
    # same config, same hash (resume depends on it)
    again = expand_grid(spec, BASE, grid, seeds=2)
    assert [q.key for q in again] == [q.key for q in points]


@pytest.mark.parametrize(
    ("grid", "seeds", "msg"),
    [
        ({"network.rec_scle": [1.0]}, None, r"\[network.rec_scle\] unknown key"),
        ({"input.n_steps": [10, -1]}, None, r"input.n_steps=-1.*\[input.n_steps\]"),
        ({"inputs.rate_hz": [1.0]}, None, r"\[inputs\] unknown key"),
        ({"simulation.seed": [1, 2]}, 2, "seed key"),
        ({"network.rec_scale": [1.0, 1]}, None, "identical configs"),
        ({}, 0, "--seeds must be a whole number >= 1"),
    ],
)
def test_expand_grid_errors(grid, seeds, msg):
    with pytest.raises(InputError, match=msg):
        expand_grid(get_command("simulate"), BASE, grid, seeds)


def test_flatten():
    assert flatten({"a": 1, "b": {"c": 2.0, "d": [1, 2]}, "e": "s"}) == {
        "a": 1,
        "b.c": 2.0,
        "e": "s",
    }


def test_run_point_resumes_from_checkpoint(tmp_path, toy_command):
    from infodyn.experiments.sweep import count_attempts, read_marker, run_point

    points = expand_grid(toy_command, {}, {"params.x": [1.0, 3.0]})
    fresh, cut = (tmp_path / p.name for p in points)
    cut.mkdir()
    (cut / "ckpt").write_text("state")  # left by an attempt that was killed
    m1 = run_point(toy_command, points[0].config, str(fresh), points[0].key)
    m2 = run_point(toy_command, points[1].config, str(cut), points[1].key)
    assert m1["results"]["resumed"] is False and m2["results"]["resumed"] is True
    assert m2["results"]["y"] == 9.0 and read_marker(cut, points[1].key) == m2
    assert count_attempts(cut) == 1


def test_energy_command_is_sweepable(tmp_path):
    """Analysis commands with a config model sweep too: here the energy fit's hyperparameters."""
    spec = get_command("energy")
    base = {"spikes": str(tmp_path / "s.h5"), "bin_ms": 5.0}
    points = expand_grid(spec, base, {"l2": [0.0, 0.01], "method": ["mpf", "pl"]}, seeds=2)
    assert len(points) == 8
    assert {(p.config["l2"], p.config["method"], p.config["seed"]) for p in points} == {
        (l2, m, s) for l2 in (0.0, 0.01) for m in ("mpf", "pl") for s in (0, 1)
    }
    with pytest.raises(InputError, match=r"\[method\]"):
        expand_grid(spec, base, {"method": ["gibbs"]})


def test_a_config_of_another_command_gets_a_hint():
    train = {
        "network": {"n_in": 3, "n_rec": 8, "n_out": 1},
        "task": {"kind": "pattern_generation", "n_steps": 30},
        "loss": [{"kind": "mse"}],
        "training": {"iterations": 2},
    }
    with pytest.raises(InputError, match="valid 'train' config: add --command train"):
        expand_grid(get_command("simulate"), train, {"training.lr": [0.1]})
    points = expand_grid(get_command("train"), train, {"training.lr": [0.1, 0.2]})
    assert len(points) == 2
    with pytest.raises(InputError) as info:  # a bad simulate config: no hint
        expand_grid(get_command("simulate"), {"network": {"n_rec": -1}}, {"input.n_steps": [5]})
    assert "--command" not in str(info.value)


def test_parse_grid_refuses_an_empty_value():
    # it said "empty value in --grid", naming neither the key nor the item
    with pytest.raises(InputError, match=r"--grid 'network.rec_scale=0.5,,1': an empty value"):
        parse_grid(["network.rec_scale=0.5,,1"])
    with pytest.raises(InputError, match=r"--grid 'network.rec_scale=0.5::3': an empty value"):
        parse_grid(["network.rec_scale=0.5::3"])


def test_a_grid_key_below_a_value_is_named():
    with pytest.raises(InputError, match=r"'network.n_rec' is not a table"):
        expand_grid(get_command("simulate"), BASE, {"network.n_rec.x": [1]})


def test_config_hash_ignores_key_order():
    assert config_hash("simulate", {"a": 1, "b": 2}) == config_hash("simulate", {"b": 2, "a": 1})
    assert config_hash("simulate", {"a": 1}) != config_hash("train", {"a": 1})


def test_flatten_keeps_missing_results():
    assert flatten({"m": None, "r": {"tau": None, "x": 1.0}}) == {
        "m": None,
        "r.tau": None,
        "r.x": 1.0,
    }


@pytest.mark.parametrize(
    ("grid", "seeds", "said"),
    [
        (
            {"network.n_rec": 0.5},
            None,
            r"^grid\['network.n_rec'\] must list one or more values, "
            r"got 0.5 \(one: \[0.5\]\)$",
        ),
        (None, None, "grid must be a table of key -> list of values"),
        ({3: [1.0]}, None, "grid keys must be dotted config keys .text., got 3"),
        ({}, "2", "--seeds must be a whole number >= 1"),
        ({}, 2.5, "--seeds must be a whole number >= 1"),
    ],
)
def test_grids_and_seeds_of_the_wrong_kind_are_one_line(grid, seeds, said):
    """A scalar grid value, no grid and text or fractional seeds were raw TypeErrors."""
    from infodyn.experiments.config import get_command
    from infodyn.experiments.grid import expand_grid

    with pytest.raises(InputError, match=said):
        expand_grid(get_command("simulate"), {}, grid, seeds)


def test_a_grid_beyond_a_sweeps_points_is_refused_before_it_is_expanded():
    # --grid rec_scale=0:1:100000000 filled 16 GB and was still going minutes after SIGTERM
    from infodyn.experiments.grid import MAX_POINTS

    with pytest.raises(InputError, match="NUM is above a sweep's 100,000 points"):
        parse_grid([f"network.rec_scale=0:1:{MAX_POINTS + 1}"])
    grid = {"network.rec_scale": list(range(400)), "input.rate_hz": list(range(1, 301))}
    with pytest.raises(InputError, match=r"120,000 points \(400 x 300\)"):
        expand_grid(get_command("simulate"), {}, grid)
    with pytest.raises(InputError, match=r"200,000 points \(400 x 250 x 2 seeds\)"):
        expand_grid(get_command("simulate"), {}, {**grid, "input.rate_hz": [1] * 250}, seeds=2)


def test_a_signal_stops_the_expansion_of_a_large_grid(monkeypatch):
    from infodyn.experiments.interrupt import Interrupted, _state

    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted, match="as its 1,000 points were being checked; none ran"):
        expand_grid(get_command("simulate"), {}, parse_grid(["network.rec_scale=0:1:1000"]))


def test_a_path_beside_the_config_is_named_before_any_point_runs(tmp_path, monkeypatch):
    # every point ran on Dask and failed with "sp2.h5: no such file", without the hint the
    # single commands give
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sp2.h5").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    base = {"spikes": "sp2.h5", "bin_ms": 5.0}
    grid = {"l2": [0.0, 0.1]}
    with pytest.raises(InputError, match=r"'sp2.h5' is not in the current directory .* beside"):
        expand_grid(get_command("energy"), base, grid, config_file="sub/en.toml")
    assert len(expand_grid(get_command("energy"), base, grid)) == 2  # the library's own call


def test_a_missing_input_is_refused_before_a_local_cluster_starts(tmp_path, monkeypatch, capsys):
    """A sweep whose points read a file that is nowhere started its cluster and ran every
    point into "no such params file", leaving a folder of failures: named before, by point."""
    from faultkit import cli_in_process

    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.h5").write_bytes(b"")
    spec = get_command("energy")
    grid = {"spikes": ["here.h5", "gone.h5"]}
    with pytest.raises(InputError, match=r"sweep point spikes='gone.h5': \[spikes\] = 'gone.h5' "):
        expand_grid(spec, {}, grid, inputs_here=True)
    assert len(expand_grid(spec, {}, grid)) == 2  # a remote cluster may hold it
    images = {"images.images": [["astronaut"], ["astronaut", "mine.png"]]}  # names are no paths
    with pytest.raises(InputError, match=r"\[images.images\] = 'mine.png' names no file"):
        expand_grid(get_command("images"), {}, images, inputs_here=True)
    (tmp_path / "base.toml").write_text('[simulation]\nparams = "w.npz"\n')
    argv = ["sweep", "base.toml", "--grid", "input.seed=1,2", "--out", "sw"]
    rc, _, err = cli_in_process(argv, capsys)
    assert rc == 2 and "[simulation.params] = 'w.npz' names no file" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "sw").exists()


def test_a_swept_weight_scale_that_a_weights_file_makes_moot_is_warned(tmp_path, monkeypatch):
    """A sweep of rec_scale whose points all read [simulation] params gave the same spikes at
    every point, without a word (rec_scale scales the weights drawn from [network])."""
    import warnings

    monkeypatch.chdir(tmp_path)
    spec = get_command("simulate")
    base = {"simulation": {"params": "w.npz"}}
    grid = {"network.rec_scale": [0.5, 1.0], "input.seed": [1, 2]}
    with pytest.warns(UserWarning, match=r"--grid network.rec_scale: these scale the weights"):
        assert len(expand_grid(spec, base, grid)) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expand_grid(spec, {}, grid)  # weights drawn: rec_scale matters
        expand_grid(spec, base, {"input.seed": [1, 2]})  # nothing moot swept


def test_evenly_spaced_values_are_the_numbers_a_user_types():
    # 0:1:11 gave 0.30000000000000004 (its folder and config hash not those of a typed 0.3)
    assert parse_grid(["x=0:1:11"])["x"][3] == 0.3
    assert parse_grid(["x=0:0.3:4"])["x"] == [0.0, 0.1, 0.2, 0.3]
    assert parse_grid(["network.n_rec=10:30:3"])["network.n_rec"] == [10, 20, 30]  # not 10.0
    assert all(type(v) is int for v in parse_grid(["n=10:30:3"])["n"])
    assert parse_grid(["x=0:1:2"])["x"] == [0, 1]


def test_quoted_values_keep_their_commas():
    # "0-3,5","0-7" was split into three points: "0-3, 5" and 0-7
    assert parse_grid(['units="0-3,5","0-7"'])["units"] == ["0-3,5", "0-7"]
    assert parse_grid(["w=[0,1],[2,3]"])["w"] == [[0, 1], [2, 3]]
    assert parse_grid(["c=ei,dense"])["c"] == ["ei", "dense"]  # bare words as before
    # quoted and bare values together gave '"0-3', '5"' and '0-7': three points, two failing
    assert parse_grid(['units="0-3,5",0-7'])["units"] == ["0-3,5", "0-7"]
    assert parse_grid(["a.b='x,y',z"])["a.b"] == ["x,y", "z"]
    assert parse_grid(["w=[0,1],3"])["w"] == [[0, 1], 3]
    with pytest.raises(InputError, match=r"a quote \(\"\) is not closed"):
        parse_grid(['units="0-3,5'])
    # a quote inside a value is part of it (a name): only one opening a value quotes
    assert parse_grid(["spikes=bob's.h5"])["spikes"] == ["bob's.h5"]
    assert parse_grid(["spikes=a.h5,bob's.h5"])["spikes"] == ["a.h5", "bob's.h5"]


def test_a_folder_input_is_recorded_by_its_files(tmp_path):
    """A phy folder whose .npy files were replaced reran nothing: only files were recorded."""
    from infodyn.experiments.grid import changed_inputs, input_files

    folder = tmp_path / "phy"
    folder.mkdir()
    (folder / "spike_times.npy").write_bytes(b"12345")
    config = {"spikes": str(folder)}
    before = input_files(config)
    assert before["spikes"][:2] == [str(folder.resolve()), 1]
    assert changed_inputs({"inputs": before}, input_files(config)) == []
    (folder / "spike_times.npy").write_bytes(b"123456")
    assert changed_inputs({"inputs": before}, input_files(config)) == ["spikes"]


def test_numpy_values_are_taken_as_pythons():
    """np.int64 values failed in the sweep's config.json; an array was refused as no values."""
    import numpy as np

    from infodyn.experiments.config import get_command

    grid = {"network.n_rec": np.array([5, 6]), "network.rec_scale": [np.float64(0.5)]}
    points = expand_grid(get_command("simulate"), BASE, grid)
    assert [p.values["network.n_rec"] for p in points] == [5, 6]
    assert all(type(p.values["network.n_rec"]) is int for p in points)


def test_evenly_spaced_values_keep_what_rounding_would_merge(tmp_path):
    # 12 digits made 1000000000001:1000000000003:3 three copies of 1e12
    assert parse_grid(["n=1000000000001:1000000000003:3"])["n"] == [
        1000000000001,
        1000000000002,
        1000000000003,
    ]
    assert len(set(parse_grid(["x=1:1.0000000000001:3"])["x"])) == 3
    from infodyn.experiments.grid import input_files

    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "a.npy").write_bytes(b"1")
    (folder / "gone").symlink_to(tmp_path / "nowhere")  # a dangling link dropped the folder
    assert input_files({"spikes": str(folder)})["spikes"][1] == 2


def test_relative_paths_go_out_absolute_so_a_worker_elsewhere_reads_the_same_files(
    tmp_path, monkeypatch
):
    """A remote Dask worker read params = "data/w.npz" from its own folder: another file of
    that name (its numbers reported as the point's), or none."""
    import os
    from pathlib import Path

    import numpy as np

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "w.npz", w=np.zeros(1))
    base = {**BASE, "simulation": {"params": "data/w.npz"}}
    points = expand_grid(get_command("simulate"), base, {"input.rate_hz": [10.0, 20.0]})
    want = str(Path.cwd() / "data" / "w.npz")
    assert all(p.config["simulation"]["params"] == want for p in points)
    # hashed as given: the same sweep from a moved project folder keeps its points
    assert points[0].key == config_hash("simulate", _as_given(base, {"input.rate_hz": 10.0}))
    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # what a worker in its own folder now reads
    assert os.path.samefile(points[0].config["simulation"]["params"], want)
    # built-in image names are no paths: they stay names, even beside a folder of that name
    (elsewhere / "camera").mkdir()
    images = expand_grid(get_command("images"), {"images": {"images": ["camera"]}}, {})
    assert images[0].config["images"]["images"] == ["camera"]


def _as_given(base, values):
    from infodyn.experiments.config import resolved, validate
    from infodyn.experiments.dotted import set_dotted

    data = {k: dict(v) for k, v in base.items()}
    for key, value in values.items():
        set_dotted(data, key, value)
    return resolved(validate(get_command("simulate").config_model(), data))


def test_a_moved_input_with_the_same_size_and_time_is_not_changed():
    # the config names it as written (and is hashed so): a moved project reran every point,
    # "their input files changed since", for files that had not
    from infodyn.experiments.grid import changed_inputs

    marker = {"inputs": {"simulation.params": ["/old/proj/w.npz", 100, 7]}}
    assert changed_inputs(marker, {"simulation.params": ["/new/proj/w.npz", 100, 7]}) == []
    assert changed_inputs(marker, {"simulation.params": ["/new/proj/w.npz", 101, 7]}) == [
        "simulation.params"
    ]


def test_a_grid_value_that_is_a_table_is_refused():
    """--grid 'network={rec_scale=1.5}' replaced the base config's whole [network] with that
    table: its n_in and n_rec fell back to the defaults and the sweep ran another network."""
    from infodyn.experiments.config import get_command
    from infodyn.experiments.grid import expand_grid

    grid = parse_grid(["network={rec_scale=1.5}"])
    base = {"network": {"n_in": 10, "n_rec": 20}}
    with pytest.raises(InputError, match="'network': a value cannot be a table .*network.NAME"):
        expand_grid(get_command("simulate"), base, grid)


def test_a_base_that_the_grid_completes_is_taken():
    """connectivity = "sparse" needs k_in or p_connect: a base without either, the grid sweeping
    k_in, was refused as a base on its own, though every point is valid."""
    from infodyn.experiments.config import get_command
    from infodyn.experiments.grid import expand_grid

    spec = get_command("simulate")
    base = {"network": {"n_in": 3, "n_rec": 20, "connectivity": "sparse"}}
    points = expand_grid(spec, base, {"network.k_in": [3, 5]})
    assert [p.config["network"]["k_in"] for p in points] == [3, 5]
    points = expand_grid(spec, base, {"network.p_connect": [0.1, 0.2]}, seeds=2)
    assert len(points) == 4
    with pytest.raises(InputError, match=r"^base config: \[network\] connectivity 'sparse' needs"):
        expand_grid(spec, base, {"network.tau_m": [10.0, 20.0]})  # the grid does not complete it
    with pytest.raises(InputError, match=r"^grid\['network.k_in'\] must list one or more values, "):
        expand_grid(spec, base, {"network.k_in": []})
    with pytest.raises(InputError, match=r"got \[\]$"):  # no "(one: [[]])"
        expand_grid(spec, base, {"network.k_in": []})


def test_a_grid_that_breaks_the_config_names_the_point_not_the_base():
    """A base with connectivity = "sparse" and neither k_in nor p_connect, swept over both:
    the error blamed the base config ("needs k_in or p_connect")."""
    base = {"network": {"connectivity": "sparse", "n_rec": 30}, "input": {"n_steps": 50}}
    grid = {"network.k_in": [10, 20], "network.p_connect": [0.1]}
    with pytest.raises(InputError, match=r"^sweep point network.k_in=10, network.p_connect=0.1: "
                       r".*p_connect or k_in, not both"):  # fmt: skip
        expand_grid(get_command("simulate"), base, grid, source="c.toml")
    with pytest.raises(InputError, match=r"^c.toml: .*needs k_in"):  # the grid cannot mend it
        expand_grid(get_command("simulate"), base, {"input.n_steps": [60]}, source="c.toml")


def test_a_list_items_key_points_to_sweeping_whole_lists():
    """--grid loss.0.weight=... was "not a dotted config key", with no word of how a
    [[loss]] term is swept: whole lists, one a value (parsed as TOML)."""
    with pytest.raises(InputError, match=r"'loss' is a list .* loss='\[\{kind"):
        parse_grid(["loss.0.weight=1,2"])
    grid = parse_grid(['loss=[{kind = "mse", weight = 1.0}],[{kind = "mse", weight = 2.0}]'])
    assert grid == {"loss": [[{"kind": "mse", "weight": 1.0}], [{"kind": "mse", "weight": 2.0}]]}
