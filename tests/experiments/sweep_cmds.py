"""A cheap test command for sweep tests (imported by Dask workers through sys.path).

``run`` fails its first ``fail_times`` attempts in a run directory (counting them in a file),
so retries can be checked; ``fail_times = -1`` always fails; ``-2`` always raises InputError
(bad input, which is not retried).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    x: float = 0.0
    fail_times: int = Field(0, ge=-2)
    data: str = ""  # an input file: its size is a result


class Opts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    seed: int = 0


class ToyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    params: Params = Params()
    opts: Opts = Opts()


def run(cfg: ToyConfig, out: Path, resume: bool = False) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if resume and not (out / "ckpt").exists():
        raise RuntimeError("resume without a checkpoint")
    tries = out / "tries"
    n = int(tries.read_text()) + 1 if tries.exists() else 1
    tries.write_text(str(n))
    if cfg.params.fail_times == -2:
        from infodyn.errors import InputError

        raise InputError("planned bad input")
    if cfg.params.fail_times < 0 or n <= cfg.params.fail_times:
        raise RuntimeError(f"planned failure {n}")
    size = {"data_size": Path(cfg.params.data).stat().st_size} if cfg.params.data else {}
    return {"y": cfg.params.x**2 + cfg.opts.seed, "nested": {"n": n}, "resumed": resume, **size}
