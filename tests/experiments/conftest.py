"""Fixtures of the experiments' tests: strict checks of report HTML (well-formed, every figure
embedded) and a toy command for sweeps (tests/experiments/sweep_cmds.py, importable here and in
spawned Dask workers)."""

from __future__ import annotations

import base64
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class StrictHTML(HTMLParser):
    """Records every problem: an end tag that closes nothing or the wrong element, an element
    left open, a repeated id, and the data URIs of <img> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.images: list[tuple[str, str]] = []  # (alt, src)
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']}")
            self.ids.add(a["id"])
        if tag == "img":
            self.images.append((a.get("alt", ""), a.get("src", "")))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append(f"end tag for void element {tag}")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def parse_report(text: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    assert parser.doctype, "missing <!DOCTYPE html>"
    assert not parser.errors, parser.errors[:5]
    assert not parser.stack, f"unclosed elements {parser.stack}"
    assert re.search(r"<html[^>]*>.*<head>.*<title>.*</title>.*</head>.*<body>", text, re.S)
    return parser


def assert_every_figure_embedded(run: Path, text: str) -> StrictHTML:
    """Every figures/*.png of ``run`` is in the report as a base64 PNG equal to the file."""
    parser = parse_report(text)
    embedded = {}
    for alt, src in parser.images:
        assert src.startswith("data:image/png;base64,"), src[:40]
        embedded[alt] = base64.b64decode(src.split(",", 1)[1])
    figs = sorted((run / "figures").rglob("*.png"))
    assert figs, "the run wrote no figures"
    for f in figs:
        name = f.relative_to(run / "figures").with_suffix("").as_posix()
        assert name in embedded, f"figure {name} missing from the report"
        assert embedded[name] == f.read_bytes(), f"figure {name} differs from its file"
        assert embedded[name][:8] == b"\x89PNG\r\n\x1a\n"
    return parser


@pytest.fixture
def report_checks():
    return parse_report, assert_every_figure_embedded


@pytest.fixture
def stopped_run_check(tmp_path, monkeypatch):
    """``check(raster, patched, run)``: with the function named ``patched`` raising
    KeyboardInterrupt (Ctrl-C in the analysis), ``run(spike_path, out)`` on an HDF5 file of
    ``raster`` removes an ``out`` folder it made and keeps one that was there before."""
    from infodyn.data.spikes import SpikeTrain, save_spikes

    def check(raster, patched: str, run) -> None:
        path = save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(raster))

        def stopped(*a, **k):
            raise KeyboardInterrupt

        monkeypatch.setattr(patched, stopped)
        with pytest.raises(KeyboardInterrupt):
            run(path, tmp_path / "new")
        assert not (tmp_path / "new").exists()
        (tmp_path / "mine").mkdir()
        with pytest.raises(KeyboardInterrupt):
            run(path, tmp_path / "mine")
        assert (tmp_path / "mine").is_dir()

    return check


HERE = str(Path(__file__).parent)


@pytest.fixture(scope="module")
def toy_command():
    from infodyn.experiments.config import COMMANDS, CommandSpec, register_command

    old_path, old_env = list(sys.path), os.environ.get("PYTHONPATH")
    sys.path.insert(0, HERE)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, old_env]))
    spec = register_command(
        CommandSpec(
            name="toy",
            config="sweep_cmds:ToyConfig",
            run="sweep_cmds:run",
            seed_keys=("opts.seed",),
            summary_metric="y",
            checkpoint="ckpt",
        )
    )
    yield spec
    COMMANDS.pop("toy", None)
    sys.path[:] = old_path
    if old_env is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old_env
