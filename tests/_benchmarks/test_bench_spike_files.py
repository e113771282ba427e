"""``benchmarks/bench_spike_files.py`` on a small raster: every row is printed and the library's
two writers' files read back as the raster written."""

from __future__ import annotations


def test_small_run(bench_module, capsys):
    mod = bench_module("bench_spike_files")
    assert mod.main(["--units", "300", "--steps", "60", "--rate", "0.3", "--repeats", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 6 + 2  # header, six filters, two writers
    assert rows[-2].startswith("| save_spikes | library |")
    assert rows[-1].startswith("| SpikeWriter | library |")


def test_a_file_that_reads_back_wrong_fails(bench_module, monkeypatch, capsys):
    mod = bench_module("bench_spike_files")
    monkeypatch.setattr(mod, "same_spikes", lambda path, train: False)
    assert mod.main(["--units", "50", "--steps", "20", "--repeats", "1"]) == 1
    assert "does not read back" in capsys.readouterr().out
