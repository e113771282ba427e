"""report.html for any run directory: valid HTML, every figure embedded, numbers and config."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest
from faultkit import cli_subprocess

from infodyn.experiments.report import format_value, render_report, write_report
from infodyn.experiments.rundir import RunDir
from infodyn.plotting import pyplot


def _make_run(path):
    run = RunDir(path)
    run.write_config({"network": {"n_rec": 50, "tau_m": 30.0}, "seed": 3}, command="energy")
    plt = pyplot()
    for name in ("memories", "bits_per_patch"):
        fig, ax = plt.subplots()
        ax.plot(np.arange(5), np.arange(5) ** 2)
        ax.set_title(name)
        run.savefig(fig, name)
    (run.path / "figures" / "extra").mkdir()
    fig, ax = plt.subplots()
    ax.imshow(np.eye(4))
    run.savefig(fig, "extra/grid")
    results = {
        "title": "An energy run & <friends>",
        "summary": "Fitted an Ising model.",
        "notes": ["AIS was not run: n <= 20 uses the exact partition function."],
        "figure_order": ["bits_per_patch"],
        "figure_captions": {"memories": "fixed points of the fitted model"},
        "sections": {"fit": "Model fit"},
        "n_memories": 17,
        "bits_per_patch": 11.23456,
        "d_min": 2,
        "failed": None,
        "converged": True,
        "loss_curve": list(np.linspace(1, 0, 200)),
        "short": [1.0, 2.5, None],
        "fit": {"method": "mpf", "objective": 0.1234, "nested": {"deep": 1e-7}},
        "per_seed": [{"seed": 0, "m": 0.98}, {"seed": 1, "m": 0.97}],
    }
    run.write_json("results.json", results)
    return run, results


def test_report_is_valid_html_with_every_figure_numbers_and_config(tmp_path, report_checks):
    _, assert_every_figure_embedded = report_checks
    run, results = _make_run(tmp_path / "run")
    path = write_report(run.path)
    assert path == run.path / "report.html"
    text = path.read_text()
    parser = assert_every_figure_embedded(run.path, text)
    assert [alt for alt, _ in parser.images][0] == "bits_per_patch"  # figure_order honoured
    assert "An energy run &amp; &lt;friends&gt;" in text  # escaped
    assert "fixed points of the fitted model" in text
    assert "AIS was not run" in text
    assert (
        ">Model fit<" in text
        and "<p class='tname'>nested</p>" in text
        and ">deep<" in text
        and "1.000e-07" in text
    )
    assert "11.23" in text and ">17<" in text and ">n/a<" in text and ">yes<" in text
    assert "200 values: min 0, mean 0.5, max 1" in text
    assert "[1, 2.5, n/a]" in text
    assert "<th>seed</th><th>m</th>" in text  # list of records as a table
    assert html_escaped_json(run.path / "config.json") in text
    assert "figures/extra/grid.png" in text and "results.json" in text


def html_escaped_json(path):
    import html

    return html.escape(json.dumps(json.loads(path.read_text()), indent=2))


def test_report_of_a_real_simulate_run(tmp_path, report_checks):
    from infodyn.experiments.config import SimulateConfig, validate
    from infodyn.experiments.simulate_run import run_simulation

    parse_report, assert_every_figure_embedded = report_checks
    cfg = validate(
        SimulateConfig,
        {
            "network": {"n_in": 10, "n_rec": 20, "in_scale": 4.0},
            "input": {"n_steps": 200},
            "simulation": {"engine": "jax"},
        },
    )
    run_simulation(cfg, tmp_path / "sim")
    text = write_report(tmp_path / "sim").read_text()
    assert_every_figure_embedded(tmp_path / "sim", text)
    assert "infodyn simulate: sim" in text and "mean_rate_hz" in text


def test_report_without_results_or_config_still_renders_with_notes(tmp_path, report_checks):
    parse_report, _ = report_checks
    run = RunDir(tmp_path / "bare")
    run.write_json("results.json", {"x": 1.5})
    text = render_report(run.path)
    parse_report(text)
    assert "config.json is missing" in text
    (run.path / "results.json").write_text("{broken")
    run.write_config({}, command="info")
    with pytest.warns(UserWarning, match="results.json could not be read .*shows the rest"):
        text = render_report(run.path)  # said on stderr too: the command exits 0
    parse_report(text)
    assert "results.json could not be read" in text


@pytest.mark.parametrize(
    ("left", "command"),
    [
        ({"progress.json": '{"command": "images", "done": ["images"]}'}, "images"),
        ({"checkpoint/state.npz": "x"}, "simulate"),
        ({"checkpoint.npz": "x", "config.json": '{"command": "train"}'}, "train"),
    ],
)
def test_the_report_of_an_interrupted_run_says_how_to_resume_it(left, command, tmp_path):
    """An interrupted images run (no config.json, no results.json yet) was reported as "the
    run's settings are unknown" and "results.json is missing or empty"."""
    import html

    for name, text in left.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    text = html.unescape(render_report(tmp_path))
    said = f"the {command} run here was interrupted (its results come when it ends): resume it"
    assert said in text and f"infodyn {command} CONFIG --out {tmp_path} --resume" in text
    assert "settings are unknown" not in text and "results.json is missing" not in text


def test_report_cli_says_on_stderr_what_it_could_not_read(tmp_path):
    """The command exits 0 with a report that notes a corrupt results.json: stderr says so too
    (it printed only the report's path)."""

    run = tmp_path / "bad"
    run.mkdir()
    (run / "results.json").write_text("{broken")
    # the note is a Python warning: this run keeps warnings on (the helper turns them off)
    proc = cli_subprocess("report", str(run), env={"PYTHONWARNINGS": "default"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("warning: ") and "results.json could not be read" in proc.stderr


def test_format_value():
    assert format_value(0.000123456) == "1.235e-04"
    assert format_value(123456) == "123,456"
    assert format_value(float("nan")) == "NaN"
    assert format_value(-2.0) == "-2"
    assert format_value(["a", "b"]) == "a, b"
    assert format_value({"a": 1}) == "1 entries"


def _cli(*args):
    return cli_subprocess("report", *args)


@pytest.mark.parametrize("case", ["ok", "missing", "empty", "file"])
def test_report_cli(tmp_path, case, report_checks):
    parse_report, _ = report_checks
    if case == "ok":
        run, _ = _make_run(tmp_path / "run")
        res = _cli(str(run.path), "--title", "My run")
        assert res.returncode == 0, res.stderr
        text = (run.path / "report.html").read_text()
        parse_report(text)
        assert "<title>My run</title>" in text
    elif case == "missing":
        res = _cli(str(tmp_path / "nope"))
        assert res.returncode == 2
        assert res.stderr.strip().count("\n") == 0 and "no such run directory" in res.stderr
    elif case == "file":  # was "no such run directory", for a file that is there
        (tmp_path / "sim.toml").write_text("")
        res = _cli(str(tmp_path / "sim.toml"))
        assert res.returncode == 2 and "sim.toml: is a file; give the run directory" in res.stderr
    else:
        (tmp_path / "empty").mkdir()
        res = _cli(str(tmp_path / "empty"))
        assert res.returncode == 2 and "not a run directory" in res.stderr


@pytest.mark.parametrize(
    ("meta", "dropped"),
    [
        ({"figure_order": 5}, "figure_order"),
        ({"figure_order": [[1]]}, "figure_order"),
        ({"notes": 5}, "notes"),
        ({"title": {}}, "title"),
        ({"sections": [1], "nested": {"a": 1}}, "sections"),
        ({"figure_captions": [1]}, "figure_captions"),
    ],
)
def test_report_ignores_meta_keys_of_the_wrong_type_with_a_note(meta, dropped, tmp_path):
    # each was an internal error (TypeError or AttributeError) of `infodyn report`
    run = RunDir(tmp_path / "run")
    run.write_json("results.json", {"x": 1.0, **meta})
    fig, ax = pyplot().subplots()
    run.savefig(fig, "raster")
    html_text = render_report(run.path)
    assert f"results.json: &#x27;{dropped}&#x27; should be" in html_text
    assert "raster" in html_text


def test_report_survives_huge_numbers_deep_json_and_undecodable_names(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps({"big": [10**400] + [1] * 12}))
    assert "some beyond the float range" in render_report(run)
    (run / "results.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.warns(UserWarning, match="nested too deeply"):
        assert "nested too deeply" in render_report(run)
    odd = tmp_path / os.fsdecode(b"r\xff")  # a folder name that is not UTF-8
    odd.mkdir()
    (odd / "results.json").write_text(json.dumps({"x": 1}))
    out = write_report(odd, title=os.fsdecode(b"t\xfe"))
    assert "\\udcfe" in out.read_text()


def test_report_shows_lists_of_up_to_twelve_numbers_in_full():
    assert format_value(list(range(12))) == "[" + ", ".join(str(i) for i in range(12)) + "]"
    assert format_value(list(range(13))).startswith("13 values: min 0")


def test_report_integer_thousands_separator_from_ten_thousand():
    assert format_value(10_000) == "10,000" and format_value(9_999) == "9999"
    # not inside a list, where [12,345, 67,890] read as four numbers
    assert format_value([12345, 67890, 2.5]) == "[12345, 67890, 2.5]"


def test_report_list_summaries_count_what_is_not_available():
    """None (NaN in results.json) was dropped unsaid; a NaN gave min and max by its place."""
    assert format_value([None] * 30 + [1.0] * 20) == "50 values (30 n/a): min 1, mean 1, max 1"
    for values in ([float("nan")] + [2.0] * 20, [2.0] * 20 + [float("nan")]):
        assert format_value(values) == "21 values (1 n/a): min 2, mean 2, max 2"


def test_report_records_table_shows_the_first_40_rows(tmp_path):
    (tmp_path / "results.json").write_text(
        __import__("json").dumps({"per_seed": [{"seed": i, "m": 0.5} for i in range(50)]})
    )
    text = render_report(tmp_path)
    assert "first 40 of 50 rows" in text
    assert "<td class='num'>39</td>" in text and "<td class='num'>45</td>" not in text


def test_report_shows_records_with_a_table_inside_lists_of_pairs_and_long_text_lists(tmp_path):
    """energy's memories (each with a basin table), a Markov chain's top transitions (pairs)
    and 7 warnings were each shown as "list of N items"; warnings with commas ran together."""
    results = {
        "memories": {
            "top": [
                {"pattern": "0101", "energy": -2.5, "basin": {"size": 12, "fraction": 0.25}},
                {"pattern": "1100", "energy": -1.5, "basin": {"size": 4, "fraction": 0.5}},
            ]
        },
        "top_transition": [[3, 5], [5, 3]],
        "warnings": [f"warning {i}, with a comma" for i in range(7)],
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    text = render_report(tmp_path)
    assert "list of" not in text
    assert "<td>0101</td>" in text and "size=12; fraction=0.25" in text
    assert "[3, 5]; [5, 3]" in text
    assert text.count("<li>warning") == 7 and "<li>warning 6, with a comma</li>" in text


def test_report_keeps_the_digits_that_tell_a_ratio_near_one_from_one():
    assert format_value(0.99996) == "0.99996" and format_value(1.00004) == "1.00004"
    assert format_value(-0.9999999) == "-0.9999999" and format_value(1.0) == "1"
    assert format_value(0.98765) == "0.9877"  # four digits elsewhere, as before
    assert format_value(0.9999999999999999) == "1" == format_value(1.0000000000000002)  # noise


def test_report_of_a_results_list_and_of_figures_only(tmp_path):
    """results.json that is not an object is shown under 'results'; a folder holding only
    figures/ is a run directory (module docstring: config, results or figures)."""

    a = tmp_path / "a"
    a.mkdir()
    (a / "results.json").write_text("[1.5, 2.5]")
    assert "[1.5, 2.5]" in render_report(a)
    b = tmp_path / "b"
    (b / "figures").mkdir(parents=True)
    fig, _ = pyplot().subplots()
    fig.savefig(b / "figures" / "raster.png")
    assert "data:image/png;base64," in render_report(b)


def test_report_write_is_atomic(tmp_path, monkeypatch):
    """write_report writes atomically: a write that fails at the rename leaves the previous
    report.html whole."""

    (tmp_path / "results.json").write_text('{"x": 1.0}')
    (tmp_path / "report.html").write_text("OLD")

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_report(tmp_path)
    assert (tmp_path / "report.html").read_text() == "OLD"


def test_report_files_table_leaves_out_the_report_itself(tmp_path):
    (tmp_path / "results.json").write_text('{"x": 1.0}')
    write_report(tmp_path)
    text = render_report(tmp_path)
    assert "<td class='key'>results.json</td>" in text
    assert "<td class='key'>report.html</td>" not in text
    (tmp_path / "spikes.h5").write_bytes(b"\0" * 1536)  # 1.5 KiB: it said "1.5 kB" (1.536)
    assert "<td class='key'>spikes.h5</td><td class='num'>1.5 KiB</td>" in render_report(tmp_path)


def test_a_damaged_figure_is_left_out_with_a_note_and_a_warning(tmp_path):
    # it was embedded as it was: a broken image in the report and nothing said why
    run, _ = _make_run(tmp_path / "r")
    (run.path / "figures" / "memories.png").write_bytes(b"not a png at all")
    (run.path / "figures" / "photo.jpg").write_bytes(b"\x89PNG\r\n\x1a\n misnamed")
    with pytest.warns(UserWarning, match=r"memories.png: not a PNG image") as seen:
        text = render_report(run.path)
    assert any("photo.jpg: not a JPEG image" in str(w.message) for w in seen)
    # a truncated SVG was embedded whole without a word (PNG and JPEG were checked)
    svg = (run.path / "figures" / "bits_per_patch.png").with_name("curve.svg")
    svg.write_text("<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><path d='M0")
    (run.path / "figures" / "whole.svg").write_text(
        "<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0'/></svg>"
    )
    (run.path / "figures" / "plain.svg").write_text("<svg><path d='M0 0'/></svg>")  # no xmlns
    with pytest.warns(UserWarning) as seen:
        text = render_report(run.path)
    assert any("curve.svg: not an SVG image" in str(w.message) for w in seen)
    assert any("plain.svg: not an SVG image" in str(w.message) for w in seen)
    assert not any("whole.svg" in str(w.message) for w in seen)
    assert text.count("<img src='data:image/svg+xml;base64,") == 1
    assert "not a PNG image (damaged or misnamed); the report leaves it out" in text
    assert text.count("<img src='data:image/png;base64,") == 2  # bits_per_patch, extra/grid
    # bytes after the end marker (cameras append them to JPEGs) are no damage
    for name in ("memories.png", "photo.jpg", "curve.svg", "plain.svg"):
        (run.path / "figures" / name).unlink()
    grid = run.path / "figures" / "extra" / "grid.png"
    grid.write_bytes(grid.read_bytes() + b"\0\0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert render_report(run.path).count("<img src='data:image/png;base64,") == 2
    # a truncated PNG starts as one: it was embedded, and shown broken
    grid.write_bytes(grid.read_bytes()[:300])
    with pytest.warns(UserWarning, match=r"grid.png: not a PNG image"):
        text = render_report(run.path)
    assert text.count("<img src='data:image/png;base64,") == 1


def test_a_figure_named_in_the_results_but_missing_is_noted(tmp_path):
    run, results = _make_run(tmp_path / "r")
    run.write_json("results.json", {**results, "files": {"memories": "figures/memories.png"}})
    assert "figures/memories.png is named in results.json but missing" not in render_report(
        run.path
    )
    (run.path / "figures" / "memories.png").unlink()
    assert "figures/memories.png is named in results.json but missing" in render_report(run.path)


def test_the_heading_of_a_report_on_the_current_folder_names_it(tmp_path, monkeypatch):
    """``infodyn report .`` on a folder without config.json: the heading was "infodyn run "."""
    run, results = _make_run(tmp_path / "named")
    (run.path / "config.json").unlink()
    run.write_json("results.json", {k: v for k, v in results.items() if k != "title"})
    monkeypatch.chdir(run.path)
    assert "<h1>infodyn run named</h1>" in render_report(".")


def test_a_summary_that_is_not_text_is_a_result_table_not_the_heading_paragraph(tmp_path):
    """infodyn channel's summary (records by strength and condition, its headline numbers) was
    shown as the paragraph under the heading, a Python repr with None, and left the tables."""
    results = {
        "summary": [
            {"strength": 1.0, "condition": "untrained", "mi_bits": 0.25, "m": None},
            {"strength": 1.0, "condition": "infomax", "mi_bits": 1.04, "m": 0.9},
        ]
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    text = render_report(tmp_path)
    assert "<p class='summary'>" not in text and "'condition'" not in text
    assert "<td>infomax</td>" in text and "<td class='num'>1.04</td>" in text
    (tmp_path / "results.json").write_text(json.dumps({"summary": "a short run", "x": 1}))
    assert "<p class='summary'>a short run</p>" in render_report(tmp_path)


def test_a_sweeps_report_shows_its_points_and_sums_up_their_folders(tmp_path):
    """A sweep's report listed every file of every point (10^4 points: a table as long as
    the sweep) and showed no table of the points; results.csv is now its "Points" table, and
    a folder of more than 40 files is one row of the files table."""
    (tmp_path / "config.json").write_text('{"command": "sweep", "config": {"grid": {"x": []}}}')
    (tmp_path / "results.json").write_text('{"n_points": 3, "n_failed": 1}')
    (tmp_path / "results.csv").write_text(
        "x,seed,status,attempts,y,tag\n0.50001,0,done,1,0.25,1_2\n0.50002,0,done,1,4.5,\n"
        "3.0,0,failed,3,,\n"
    )
    for k in range(20):
        folder = tmp_path / "points" / f"x={k}_abc"
        folder.mkdir(parents=True)
        for name in ("DONE.json", "results.json", "attempts.jsonl"):
            (folder / name).write_text("{}")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "summary.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    text = render_report(tmp_path)
    assert "<a href='#points'>Points (3)</a>" in text
    assert "<td>failed</td>" in text and "<td class='num'>4.5</td>" in text
    assert "<td>1_2</td>" in text  # a label, not the number 12
    # the grid's values as written (rounded, 0.50001 and 0.50002 read as two points of 0.5)
    assert "<td>0.50001</td>" in text and "<td>0.50002</td>" in text
    assert "points/ (60 files in 20 folders)" in text
    assert "DONE.json" not in text  # no point's own file
    assert "<td class='key'>figures/summary.png</td>" in text  # a small folder: in full


def test_a_damaged_sweep_table_is_listed_not_shown(tmp_path):
    """A row longer than results.csv's header (damaged, edited) was an internal error."""
    (tmp_path / "config.json").write_text('{"command": "sweep"}')
    (tmp_path / "results.json").write_text('{"n_points": 2}')
    (tmp_path / "results.csv").write_text("a,b\n1,2\n3,4,5\n")
    text = render_report(tmp_path)
    assert "id='points'" not in text and "<td class='key'>results.csv</td>" in text
