"""A command whose config says which points share a batch (tests/experiments/test_plugins.py)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Batchy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    x: float = 0.0
    group: int = 0

    def batch_signature(self) -> tuple:
        return ("group", self.group)


def run(cfg: Batchy, out: Path, resume: bool = False) -> dict:
    return {"y": cfg.x}


def run_batch(cfgs: list[Batchy], outs: list[Path]) -> list[dict]:
    return [{"y": c.x, "batched": len(cfgs)} for c in cfgs]
