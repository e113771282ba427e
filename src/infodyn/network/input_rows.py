"""Dense input made a chunk at a time with the numbers of the whole array: the Poisson and
constant-current inputs of ``infodyn simulate`` over runs of any length in one chunk's memory.

:class:`PoissonRows` is an input function ``x(start, stop)`` giving steps ``start..stop`` of
:func:`~infodyn.network.encoders.poisson_spikes` (one rate, or one a channel; seed ``s``) bit
for bit. That array is ``default_rng(s).random((T, n_in)) < p`` read row by row, and NumPy's
PCG64 draws one 64-bit word a float64 uniform (``(word >> 11) * 2^-53``), so the rows from step
``start`` on are those of the generator advanced by ``start * n_in`` words: ``PCG64.advance``,
a jump of O(log n) work (O'Neill 2014, "PCG: a family of simple fast space-efficient
statistically good algorithms for random number generation", section 4.3.1). A run in chunks,
resumed part way, or extended after it finished gets the input of one long array; a chunk holds
``chunk_steps x n_in`` draws, never ``T x n_in`` (at 10^6 steps x 100 channels the whole array
took 2 GB while it was made).

:class:`ConstantRows` repeats :func:`~infodyn.network.encoders.direct_current`'s row.
"""

from __future__ import annotations

__all__ = ["ConstantRows", "PoissonRows"]

from dataclasses import dataclass
from typing import Any

import numpy as np

from infodyn.errors import InputError, make_rng, require, whole_number
from infodyn.network.encoders import direct_current, spike_probabilities

#: peak bytes a draw while a chunk is made: its float64 uniform, the comparison's mask, the
#: float32 result (and the probabilities broadcast to it)
POISSON_CHUNK_BYTES = 21
#: float32 rows, and their copy as the chunk is handed on
CURRENT_CHUNK_BYTES = 8


def _span(start: Any, stop: Any, name: str) -> tuple[int, int]:
    start = whole_number(start, "start", minimum=0)
    stop = whole_number(stop, "stop", minimum=0)
    if stop < start:
        raise InputError(f"{name}: stop={stop} is before start={start}")
    return start, stop


@dataclass(frozen=True)
class PoissonRows:
    """Steps ``start..stop`` of ``poisson_spikes(rate_hz, T, n_in, dt, seed=seed)`` as a
    (stop - start, n_in) float32 array, for any ``T >= stop`` (module docstring). ``rate_hz``
    is one rate or one a channel (Hz)."""

    rate_hz: Any
    n_in: int
    dt: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        p = spike_probabilities(self.rate_hz, self.dt)  # checked as poisson_spikes checks them
        n_in = whole_number(self.n_in, "n_in", minimum=1)
        if p.ndim > 1 or (p.ndim == 1 and p.size != n_in):
            raise InputError(
                f"rate_hz must be one rate or one a channel ({n_in}), got shape {p.shape}"
            )
        # a whole number (or a list of them): a Generator or None was reseeded, or advanced,
        # by every call, so no chunk was the same twice (the rows are read more than once)
        require(
            self.seed is not None and not isinstance(self.seed, np.random.Generator),
            f"PoissonRows needs a whole-number seed (its rows are redrawn from it), got "
            f"{self.seed!r}",
        )
        make_rng(self.seed)  # a seed NumPy cannot take, refused here

    def __call__(self, start: int, stop: int) -> np.ndarray:
        start, stop = _span(start, stop, "PoissonRows")
        rng = make_rng(self.seed)
        rng.bit_generator.advance(start * int(self.n_in))  # one word a float64 uniform
        p = spike_probabilities(self.rate_hz, self.dt)
        return (rng.random((stop - start, int(self.n_in))) < p).astype(np.float32)

    def chunk_bytes(self, steps: int) -> int:
        """The bytes of a chunk of ``steps`` steps at their peak while it is made."""
        return POISSON_CHUNK_BYTES * int(steps) * int(self.n_in)


@dataclass(frozen=True)
class ConstantRows:
    """``direct_current(amplitude, T, n_in)``'s rows ``start..stop``: the same float32 row,
    repeated."""

    amplitude: Any
    n_in: int

    def __post_init__(self) -> None:
        direct_current(self.amplitude, 1, n_in=self.n_in)  # its checks, on one row

    def __call__(self, start: int, stop: int) -> np.ndarray:
        start, stop = _span(start, stop, "ConstantRows")
        row = direct_current(self.amplitude, 1, n_in=self.n_in)[0]
        return np.broadcast_to(row, (stop - start, row.size)).copy()

    def chunk_bytes(self, steps: int) -> int:
        """The bytes of a chunk of ``steps`` steps at their peak."""
        return CURRENT_CHUNK_BYTES * int(steps) * int(self.n_in)
