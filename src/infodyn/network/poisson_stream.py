"""Poisson input made chunk by chunk: many channels over long runs in the memory of one chunk.

:class:`PoissonStream` is an input function ``x(start, stop)`` (what
:func:`~infodyn.network.simulate_to_file`, :func:`~infodyn.network.simulate_spikes` and
``infodyn simulate`` take) returning the spikes of steps ``start..stop`` of ``n_in`` independent
Bernoulli-per-step channels, each spiking with probability ``p = rate_hz dt / 1000`` a step (the
binned Poisson process of :func:`~infodyn.network.encoders.poisson_spikes`), as a SciPy CSR array
(bool values, int32 unit ids, one row a step). It is the drive of private inputs
(``input_connectivity="private"``: every unit its own Poisson source, Brunel 2000, J. Comput.
Neurosci. 8:183, section 2), whose n_rec channels over 10^4 steps would be a 4 GB dense array at
10^5 units.

Reproducibility: the steps are drawn in blocks of :attr:`PoissonStream.block_steps` steps
(about :data:`BLOCK_ELEMENTS` draws a block), block b from a generator seeded with
``(seed, b, STREAM_TAG)``. A step's spikes therefore depend on the seed and the step only, not
on the chunks asked for: a run in chunks of 1,000 steps, of 10,000, or stopped and resumed, gets
the same input.

Sampling: where ``p <= GEOMETRIC_MAX_P`` the positions of the spikes in a block (its steps x
channels read row by row) are drawn as cumulative sums of geometric gaps, ``P(gap = g) =
(1 - p)^(g-1) p`` (the waiting times of a Bernoulli sequence, so exactly that process), in
O(spikes) time; above it one uniform number a draw is compared with p (fewer operations when
most draws are spikes). Which sampler runs depends on p only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from infodyn.errors import InputError, require, whole_number
from infodyn.network.encoders import spike_probabilities

#: the last word of every block's seed: block 0 of seed s is not the stream of
#: ``default_rng(s)`` (``[s, 0]`` seeds as ``s`` does), which draws the weights of seed s
STREAM_TAG = 0x5053

#: draws (steps x channels) a block holds: 2^22, 16 MiB of float32 uniforms for the dense sampler
BLOCK_ELEMENTS = 1 << 22
#: the largest spike probability drawn by geometric gaps (measured: 4x faster than uniforms at
#: p = 0.1, as fast at 0.3, 4x slower at 0.4)
GEOMETRIC_MAX_P = 0.25


@dataclass(frozen=True)
class PoissonStream:
    """``n_in`` independent Poisson channels at ``rate_hz`` (Hz) in steps of ``dt`` ms, seeded by
    ``seed``; call it as ``x(start, stop)`` for the CSR array of steps ``start..stop``
    (module docstring). Example::

        x = PoissonStream(rate_hz=100.0, n_in=net.n_in, dt=net.dt, seed=1)
        idn.network.simulate_to_file(net, params, x, 10_000, "spikes.h5")
    """

    rate_hz: float
    n_in: int
    dt: float = 1.0
    seed: int = 0
    #: the last block drawn (its number and spikes): chunks shorter than a block draw it once
    _last: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        p = spike_probabilities(self.rate_hz, self.dt)
        require(p.ndim == 0, f"rate_hz must be one rate (Hz), got shape {p.shape}")
        whole_number(self.n_in, "n_in", minimum=1)
        whole_number(self.seed, "seed", minimum=0)

    @property
    def p(self) -> float:
        """The spike probability of a channel in a step, ``rate_hz dt / 1000``."""
        return float(self.rate_hz) * float(self.dt) / 1000.0

    @property
    def block_steps(self) -> int:
        """Steps drawn from one seeded generator (:data:`BLOCK_ELEMENTS` draws, at least 1)."""
        return max(1, BLOCK_ELEMENTS // self.n_in)

    def chunk_bytes(self, steps: int) -> int:
        """The bytes of the input of ``steps`` steps at its peak, expected: 4 bytes of unit id and
        1 of value a spike, the ids twice while a chunk's blocks are joined, its row pointers,
        and one block being drawn (its float32 uniforms and mask, or the int64 gaps)."""
        spikes = self.p * steps * self.n_in
        block = self.block_steps * self.n_in
        return int(9 * spikes + 8 * (steps + 1) + 5 * block + 16 * self.p * block)

    def __call__(self, start: int, stop: int):
        start = whole_number(start, "start", minimum=0)
        stop = whole_number(stop, "stop", minimum=0)
        if stop < start:
            raise InputError(f"PoissonStream: stop={stop} is before start={start}")
        b_steps = self.block_steps
        counts = np.zeros(stop - start, np.int64)
        ids: list[np.ndarray] = []
        for block in range(start // b_steps, math.ceil(stop / b_steps)):
            first = block * b_steps
            lo, hi = max(start, first) - first, min(stop, first + b_steps) - first
            positions = self._block(block)
            positions = positions[
                np.searchsorted(positions, lo * self.n_in) : np.searchsorted(
                    positions, hi * self.n_in
                )
            ]
            rows = positions // self.n_in
            counts[first + lo - start : first + hi - start] = np.bincount(
                rows - lo, minlength=hi - lo
            )
            ids.append((positions - rows * self.n_in).astype(np.int32))
        indices = np.concatenate(ids) if ids else np.zeros(0, np.int32)
        # int32 row pointers where they fit: SciPy keeps the ids int32 only beside them
        index_type = np.int32 if indices.size < 2**31 else np.int64
        indptr = np.zeros(stop - start + 1, index_type)
        np.cumsum(counts, out=indptr[1:])
        data = np.ones(indices.size, np.bool_)
        return sp.csr_array((data, indices, indptr), shape=(stop - start, self.n_in))

    def _block(self, block: int) -> np.ndarray:
        """The spikes of block ``block`` as ascending positions ``step_in_block * n_in + unit``
        (int64)."""
        if self._last.get("block") == block:
            return self._last["positions"]
        positions = self._draw(block)
        self._last.update(block=block, positions=positions)
        return positions

    def _draw(self, block: int) -> np.ndarray:
        size = self.block_steps * self.n_in
        p = self.p
        if p == 0.0:
            return np.zeros(0, np.int64)
        rng = np.random.default_rng([self.seed, block, STREAM_TAG])
        if p > GEOMETRIC_MAX_P:
            return np.flatnonzero(rng.random(size, dtype=np.float32) < np.float32(p))
        parts, end = [], -1
        while end < size - 1:  # gaps until the block is passed (one draw, rarely two)
            # gaps past the block end it alike: capped, the sum cannot wrap (below p = 1e-18
            # NumPy's gaps are 2^63 - 1, and their sum wrapped negative: a loop for ever)
            gaps = np.minimum(rng.geometric(p, size=_gaps_to_draw((size - 1 - end) * p)), size + 1)
            positions = end + np.cumsum(gaps)
            parts.append(positions)
            end = int(positions[-1])
        positions = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return positions[: np.searchsorted(positions, size)]


def _gaps_to_draw(expected: float) -> int:
    """Gaps to draw for ``expected`` spikes: six standard deviations more, so that a second
    draw is seldom needed."""
    return int(expected + 6 * math.sqrt(expected) + 16)
