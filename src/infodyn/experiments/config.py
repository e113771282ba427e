"""TOML run configs validated by pydantic.

Each section is a model with defaults, units in the field descriptions, and ``extra="forbid"`` so
an unknown key is an error that names the key. :func:`load_config` reads a TOML file and reports
every problem in one line.

The ``[network]`` section takes the fields of :class:`infodyn.network.LIF` (``model = "alif"``
adds those of :class:`infodyn.network.ALIF`); ``[input]`` describes the stimulus; ``[simulation]``
the engine and seeds.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infodyn.errors import InputError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputConfig(Section):
    """The stimulus. ``kind``: "poisson" (constant rate), "filtered_noise" (Adelson-Bergen
    filtered Gaussian noise driving Poisson generators), or "current" (constant current)."""

    kind: Literal["poisson", "filtered_noise", "current"] = "poisson"
    rate_hz: float = Field(50.0, ge=0, description="Poisson rate (mean rate for filtered_noise), Hz")
    contrast: float = Field(0.5, ge=0, description="filtered_noise modulation depth")
    amplitude: float = Field(0.0, description="direct current amplitude (current)")
    n_steps: int = Field(1000, ge=1, description="simulation length in steps")
    seed: int = Field(1, description="input seed")


class SimulationConfig(Section):
    engine: Literal["auto", "jax", "event"] = "auto"
    precision: Literal["float32", "float64"] = "float32"
    seed: int = Field(0, description="weight initialisation seed")
    chunk_steps: int = Field(10_000, ge=1, description="steps per chunk when streaming to disk")


class SimulateConfig(Section):
    network: dict[str, Any] = Field(default_factory=dict)
    input: InputConfig = InputConfig()
    simulation: SimulationConfig = SimulationConfig()

    def build_network(self):
        return build_network(self.network)


def build_network(section: dict[str, Any]):
    """Build a LIF (or, with ``model = "alif"``, an ALIF) network from a config section."""
    from infodyn.network import ALIF, LIF

    fields = dict(section)
    model = str(fields.pop("model", "lif")).lower()
    if model not in ("lif", "alif"):
        raise InputError(f"[network] model must be 'lif' or 'alif', got {model!r}")
    cls = ALIF if model == "alif" else LIF
    return cls(**fields)


def make_input(cfg: InputConfig, n_in: int, dt: float) -> np.ndarray:
    """The (n_steps, n_in) input array described by ``cfg``."""
    from infodyn.network import encoders

    if cfg.kind == "poisson":
        return encoders.poisson_spikes(cfg.rate_hz, cfg.n_steps, n_in=n_in, dt=dt, seed=cfg.seed)
    if cfg.kind == "filtered_noise":
        return encoders.filtered_noise_spikes(
            cfg.n_steps, n_in, dt=dt, mean_rate=cfg.rate_hz, contrast=cfg.contrast, seed=cfg.seed
        )
    return encoders.direct_current(cfg.amplitude, cfg.n_steps, n_in=n_in)


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file, turning a missing or malformed file into one clear error."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such config file")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read config ({exc})") from None


def validate(model: type[BaseModel], data: dict[str, Any], source: str = "config") -> Any:
    """Validate ``data`` against ``model``; errors name the offending key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            parts.append(f"[{loc}] {msg}")
        raise InputError(f"{source}: " + "; ".join(parts)) from None


def load_config(path: str | os.PathLike, model: type[BaseModel]) -> Any:
    """Read and validate a TOML config file."""
    return validate(model, read_toml(path), source=str(path))
