"""``benchmarks/gpu_scale.py`` with the CPU standing in for the GPU (``--device cpu``): every
JAX row, in memory and streamed in chunks, gives the event engine's raster in float64, and the
rows it writes name what ran."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_rows_on_the_cpu(tmp_path, monkeypatch):
    for folder in ("benchmarks", "benchmarks/peers"):  # as when run as a script
        monkeypatch.syspath_prepend(str(ROOT / folder))
    spec = importlib.util.spec_from_file_location("gpu_scale", ROOT / "benchmarks" / "gpu_scale.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "rows.json"
    args = ["ai:600:30:400", "--device", "cpu", "--repeats", "1", "--gpu-unroll", "4", "64"]
    assert mod.main([*args, "--stream", "96", "--json", str(out)]) == 0
    rows = {r["engine"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {
        "event (Numba, CPU, 1 thread)",
        *(f"JAX {p} on cpu (cpu), unroll {u}" for p in ("float64", "float32") for u in (4, 30)),
        *(
            f"JAX {p} on cpu (cpu), unroll 30, streamed in chunks of 96"
            for p in ("float64", "float32")
        ),
    }
    assert rows["event (Numba, CPU, 1 thread)"]["vs_event"] == "reference"
    for name, row in rows.items():
        if "float64" in name:
            assert row["vs_event"] == "identical", name
        assert row["events"] > 0 and row["rate_hz"] > 0.5
