"""``benchmarks/load_spikes_memory.py`` on a small file: its file holds the spikes asked for, and
one row per source tree is printed."""

from __future__ import annotations

from pathlib import Path

from infodyn.data import load_spikes

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_the_file_and_the_rows(bench_module, tmp_path, capsys):
    mod = bench_module("load_spikes_memory")
    mod.write_file(tmp_path / "s.h5", 5_001, n_units=300, per_step=100)
    spikes = load_spikes(tmp_path / "s.h5")
    assert spikes.n_spikes == 5_001 and spikes.n_steps == 51
    mod.main(["--spikes", "20000", "--src", SRC, SRC])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"| {SRC}")]
    assert len(rows) == 2 and all(row.endswith("x held |") for row in rows)
