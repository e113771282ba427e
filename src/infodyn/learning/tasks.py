"""Training tasks: the e-prop paper's published tasks and a rate-only task.

A task has ``n_in``, ``n_out``, ``n_steps`` and two methods:
``batch(rng, batch_size) -> (x, target)`` with ``x`` (B, T, n_in) and ``target`` (B, T, n_out)
or None, and ``metrics(y, target) -> dict`` of task scores computed from the readouts.

- :class:`PatternGeneration` (Bellec et al. 2020, Supplementary Information; Fig. S7 in the
  authors' code, github.com/IGITUGraz/eligibility_propagation; their Fig. 2 is TIMIT): one
  readout reproduces a fixed target, a sum of four sines with periods 1000, 500, 333 and 200 ms,
  amplitudes U(0.5, 2) and random phases, from frozen Poisson input (100 channels at 50 Hz,
  T = 1000 ms).
- :class:`EvidenceAccumulation` (Bellec et al. 2020, Fig. 3; Morcos & Harvey 2016): 40 input
  channels in four groups of 10 (left cue, right cue, recall, background noise). Seven cues of
  100 ms separated by 50 ms gaps (40 Hz on the cue's group), a 1050 ms delay, then a 150 ms
  recall cue (40 Hz); noise channels fire at 10 Hz throughout. As in the published code, each
  trial first draws a favoured side (left or right with probability 1/2) and each cue then comes
  from the favoured side with probability ``1 - p_group`` (``p_group = 0.3``); ``p_group = 0.5``
  draws every cue independently at 1/2, a harder task (more 4:3 trials).
  T = 2250 ms. Two readouts; the answer is the side with more cues, scored by softmax
  cross-entropy over the recall window, and the error is the fraction of trials whose
  recall-averaged readout picks the wrong side. Needs ALIF units; LIF-only networks stay near
  chance.
- :class:`RateTask`: Poisson input at ``rate_hz`` and no target, for rate/criticality losses.
- :class:`PatchTask`: trials of one natural-image patch each, ON/OFF Poisson input
  (:func:`~infodyn.network.encoders.encode_patches`), optionally with fixational drift; the target
  is the response window of the information objective.
- :class:`StimulusTrials`: every batch holds fresh noisy trials of each stimulus of a frozen
  :class:`~infodyn.network.encoders.StimulusSet`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from infodyn.data.gaze import saccade_path
from infodyn.errors import (
    check_option_type,
    finite_reals,
    is_finite_number,
    make_rng,
    require,
    whole_number,
)
from infodyn.learning.info_objectives import window_target
from infodyn.memory import require_memory
from infodyn.network.encoders import StimulusSet, encode_patches, spike_probabilities

#: what each option of the config's tasks (``[task]``) means, for ``infodyn config show``
OPTION_DESCRIPTIONS = {
    "n_in": "input channels (the network's n_in)",
    "n_steps": "steps of a trial",
    "rate_hz": "Poisson rate of every input channel (Hz)",
    "dt": "time step in ms (the network's dt)",
    "periods_ms": "periods of the target's sines (ms)",
    "seed": "seed of the frozen input and the target's amplitudes and phases",
    "n_out": "readouts (the network's n_out)",
    "n_cues": "cues a trial (odd: no ties)",
    "cue_ms": "length of a cue (ms)",
    "gap_ms": "gap after each cue (ms)",
    "delay_ms": "delay between the last cue and the recall cue (ms)",
    "recall_ms": "length of the recall cue, the scored window (ms)",
    "channels_per_group": "input channels of each of the 4 groups (left, right, recall, noise)",
    "cue_rate_hz": "rate of a cue's and the recall cue's channels (Hz)",
    "noise_rate_hz": "rate of the noise channels (Hz)",
    "p_group": "chance that a cue comes from the side that is not favoured",
}


#: elements of the uniform draws :func:`_poisson` holds at a time (2 MiB of float64: blocks of
#: 2^16-2^20 took the same time, 2^22 1.5x as long)
DRAW_BLOCK = 1 << 18


def _poisson(
    rng: np.random.Generator,
    rate_hz: float | Callable[[int, int], np.ndarray],
    shape: tuple[int, ...],
    dt: float,
) -> np.ndarray:
    """Poisson spikes (0.0 or 1.0, float64) of ``shape`` at ``rate_hz``: a number, or a function
    ``rate_hz(lo, hi)`` giving the rates of rows ``lo:hi`` of the leading axis (an array that
    broadcasts to ``(hi - lo, *shape[1:])``). Negative rates, or more than one spike per step,
    are an ``InputError`` (they were clipped, so a task with ``rate_hz = -50`` trained on
    silence).

    Drawn a block of leading rows at a time (about :data:`DRAW_BLOCK` uniforms): the same
    numbers as one ``rng.random(shape) < p`` (a Generator fills an array in order), without
    whole-batch rates, probabilities and uniforms beside the result (a batch of 3,000
    evidence-accumulation trials held four 2.2 GB arrays and took 10-22 s; 2.5-5 s now, most of
    it the first touch of the result's pages)."""
    if callable(rate_hz):
        probabilities = lambda lo, hi: spike_probabilities(rate_hz(lo, hi), dt)  # noqa: E731
    else:  # checked once, before the memory (an impossible rate is the first thing to say)
        p = spike_probabilities(rate_hz, dt)
        probabilities = lambda lo, hi: p  # noqa: E731
    per_row = math.prod(shape[1:])
    rows = max(1, DRAW_BLOCK // max(per_row, 1))
    require_memory(  # n_in = 10**30 was NumPy's "maximum allowed dimension exceeded"
        # the result, and a block's rates, probabilities and uniforms (with room to spare)
        8 * math.prod(shape) + 32 * min(rows, shape[0]) * per_row,
        f"a batch of {shape} input spikes",
        "give fewer steps or inputs",
    )
    out = np.empty(shape)
    for lo in range(0, shape[0], rows):
        hi = min(lo + rows, shape[0])
        np.less(rng.random((hi - lo, *shape[1:])), probabilities(lo, hi), out=out[lo:hi])
    return out


def _check_fields(task: Any) -> None:
    """Each ``int``, ``float`` or ``bool`` field of a task dataclass has that type
    (:func:`~infodyn.errors.check_option_type`): ``channels_per_group="a"`` made ``n_in`` the
    text ``'aaaa'``, ``True`` was read as 1 and ``2.5`` channels as 2."""
    for f in fields(task):
        if f.init:
            check_option_type(f"{type(task).__name__}.{f.name}", getattr(task, f.name), f.type)


@dataclass
class PatternGeneration:
    """Sum-of-four-sines pattern generation from frozen Poisson input (see module docstring)."""

    n_in: int = 100
    n_steps: int = 1000
    rate_hz: float = 50.0
    dt: float = 1.0
    periods_ms: tuple[float, ...] = (1000.0, 500.0, 333.0, 200.0)
    seed: int = 0
    n_out: int = field(default=1, init=False)

    def __post_init__(self) -> None:
        _check_fields(self)
        require(self.n_in >= 1 and self.n_steps >= 2, "n_in >= 1 and n_steps >= 2 are needed")
        periods = finite_reals(self.periods_ms, "periods_ms")
        require(periods.ndim == 1, f"periods_ms must be a list of periods, got {self.periods_ms!r}")
        require(
            periods.size >= 1 and bool(np.all(np.isfinite(periods) & (periods > 0))),
            f"periods_ms must list at least one period > 0 ms, got {self.periods_ms!r}",
        )
        rng = make_rng(self.seed)
        self.x = _poisson(rng, self.rate_hz, (self.n_steps, self.n_in), self.dt)
        t = np.arange(self.n_steps) * self.dt
        amps = rng.uniform(0.5, 2.0, size=len(self.periods_ms))
        phases = rng.uniform(0.0, 2 * np.pi, size=len(self.periods_ms))
        self.target = sum(
            a * np.sin(2 * np.pi * t / p + ph)
            for a, p, ph in zip(amps, self.periods_ms, phases, strict=True)
        )[:, None]

    def batch(self, rng: np.random.Generator, batch_size: int):
        x = np.broadcast_to(self.x, (batch_size, *self.x.shape)).copy()
        y = np.broadcast_to(self.target, (batch_size, *self.target.shape)).copy()
        return x, y

    def metrics(self, y: np.ndarray, target: np.ndarray) -> dict[str, Any]:
        mse = float(np.mean((y - target) ** 2))
        return {"nmse": mse / float(np.var(target))}


@dataclass
class EvidenceAccumulation:
    """The e-prop paper's evidence-accumulation task (see module docstring)."""

    n_cues: int = 7
    cue_ms: float = 100.0
    gap_ms: float = 50.0
    delay_ms: float = 1050.0
    recall_ms: float = 150.0
    channels_per_group: int = 10
    cue_rate_hz: float = 40.0
    noise_rate_hz: float = 10.0
    p_group: float = 0.3
    dt: float = 1.0

    def __post_init__(self) -> None:
        _check_fields(self)
        require(self.n_cues >= 1 and self.n_cues % 2 == 1, "n_cues must be odd (no ties)")
        self.channels_per_group = whole_number(
            self.channels_per_group, "channels_per_group", minimum=1
        )
        require(0.0 <= self.p_group <= 0.5, f"p_group must be in [0, 0.5], got {self.p_group}")
        require(  # dt = 0 was a ZeroDivisionError
            is_finite_number(self.dt) and self.dt > 0, f"dt must be > 0 ms, got {self.dt}"
        )
        for name in ("cue_ms", "recall_ms"):  # a window of no steps: nothing to see or score
            require(
                getattr(self, name) >= self.dt,
                f"{name} must be at least one step ({self.dt} ms), got {getattr(self, name)}",
            )
        for name in ("gap_ms", "delay_ms"):
            require(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("cue_rate_hz", "noise_rate_hz"):  # checked at batch() only
            spike_probabilities(getattr(self, name), self.dt)
        s = lambda ms: int(round(ms / self.dt))  # noqa: E731
        self._cue, self._gap = s(self.cue_ms), s(self.gap_ms)
        self._recall_start = self.n_cues * (self._cue + self._gap) + s(self.delay_ms)
        self.n_steps = self._recall_start + s(self.recall_ms)
        self.n_in = 4 * self.channels_per_group
        self.n_out = 2

    def batch(self, rng: np.random.Generator, batch_size: int):
        g, b, t = self.channels_per_group, batch_size, self.n_steps
        favoured = rng.integers(0, 2, size=(b, 1))  # 0 left, 1 right
        against = rng.random((b, self.n_cues)) < self.p_group
        sides = np.where(against, 1 - favoured, favoured)  # side of each cue

        def rate(lo: int, hi: int) -> np.ndarray:  # the rates of trials lo:hi
            r = np.zeros((hi - lo, t, self.n_in))
            r[:, :, 3 * g :] = self.noise_rate_hz
            for k in range(self.n_cues):
                start = k * (self._cue + self._gap)
                for side in (0, 1):
                    on = sides[lo:hi, k] == side
                    r[on, start : start + self._cue, side * g : (side + 1) * g] = self.cue_rate_hz
            r[:, self._recall_start :, 2 * g : 3 * g] = self.cue_rate_hz
            return r

        x = _poisson(rng, rate, (b, t, self.n_in), self.dt)
        label = (sides.sum(axis=1) > self.n_cues // 2).astype(int)
        target = np.zeros((b, t, 2))
        n_rec = t - self._recall_start
        target[np.arange(b)[:, None], np.arange(self._recall_start, t)[None, :], label[:, None]] = (
            1.0 / n_rec
        )
        return x, target

    def labels(self, target: np.ndarray) -> np.ndarray:
        return np.argmax(target[:, self._recall_start :, :].sum(axis=1), axis=-1)

    def metrics(self, y: np.ndarray, target: np.ndarray) -> dict[str, Any]:
        pred = np.argmax(y[:, self._recall_start :, :].mean(axis=1), axis=-1)
        return {"error": float(np.mean(pred != self.labels(target)))}


@dataclass
class RateTask:
    """Poisson input at ``rate_hz`` on ``n_in`` channels for ``n_steps``; no target."""

    n_in: int = 100
    n_steps: int = 1000
    rate_hz: float = 5.0
    n_out: int = 0
    dt: float = 1.0

    def __post_init__(self) -> None:
        # n_in = 0 or n_steps = 0 gave empty batches; -1 or 2.5 raw NumPy errors at batch()
        self.n_in = whole_number(self.n_in, "n_in", minimum=1)
        self.n_steps = whole_number(self.n_steps, "n_steps", minimum=1)
        self.n_out = whole_number(self.n_out, "n_out")
        for name, bound, unit in (("rate_hz", ">=", "Hz"), ("dt", ">", "ms")):
            value = getattr(self, name)
            ok = is_finite_number(value) and (value > 0 or bound == ">=" and value == 0)
            require(ok, f"{name} must be a finite number {bound} 0 {unit}, got {value!r}")

    def batch(self, rng: np.random.Generator, batch_size: int):
        require(  # an AttributeError ("'str' object has no attribute 'random'")
            isinstance(rng, np.random.Generator | np.random.RandomState),
            f"rng must be a np.random.Generator, got {rng!r}",
        )
        batch_size = whole_number(batch_size, "batch_size", minimum=1)
        return _poisson(rng, self.rate_hz, (batch_size, self.n_steps, self.n_in), self.dt), None

    def metrics(self, y: np.ndarray, target: Any) -> dict[str, Any]:
        return {}


TASKS = {
    "pattern_generation": PatternGeneration,
    "evidence_accumulation": EvidenceAccumulation,
    "rate": RateTask,
}


class PatchTask:
    """Trials of one image patch each, as a task for :class:`infodyn.learning.Trainer`.

    ``batch(rng, B)`` draws B stimulus labels uniformly, Poisson inputs from their rates and the
    :func:`~infodyn.learning.info_objectives.window_target` of the information objective.
    ``gaze``: ``{"images": [grey arrays per stimulus], "rows", "cols", "size", "drift",
    "base_hz", "gain_hz"}``; with ``drift > 0`` each trial drifts around its stimulus patch
    (:func:`~infodyn.data.gaze.saccade_path`).
    """

    def __init__(
        self,
        rates_hz: np.ndarray,
        n_steps: int,
        start: int,
        dt: float = 1.0,
        gaze: dict[str, Any] | None = None,
    ) -> None:
        self.rates_hz = finite_reals(rates_hz, "rates_hz")
        require(
            self.rates_hz.ndim == 2, f"rates_hz must be (K, n_in), got shape {self.rates_hz.shape}"
        )
        spike_probabilities(self.rates_hz, dt)  # NaN/negative/too high: one InputError
        self.n_out = self.rates_hz.shape[0]
        self.n_in = self.rates_hz.shape[1]
        # int() cut 20.7 steps to 20 and took "3" and True
        self.n_steps = whole_number(n_steps, "n_steps", minimum=1)
        self.start = whole_number(start, "start", maximum=self.n_steps - 1)
        self.dt = float(dt)
        require(
            gaze is None or (isinstance(gaze, dict) and "drift" in gaze),
            f"gaze must be a dict with images, rows, cols, size and drift, got {gaze!r:.60}",
        )
        self.gaze = gaze if gaze and gaze["drift"] > 0 else None

    def rates(self, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
        """Input rates (B, T, n_in) in Hz of trials showing ``labels``."""
        if self.gaze is None:
            return np.broadcast_to(
                self.rates_hz[labels][:, None, :], (len(labels), self.n_steps, self.n_in)
            )
        g = self.gaze
        out = np.empty((len(labels), self.n_steps, self.n_in))
        for b, k in enumerate(labels):
            path = saccade_path(
                g["images"][k],
                g["size"],
                n_fixations=1,
                fixation_steps=self.n_steps,
                drift=g["drift"],
                seed=int(rng.integers(2**31)),
                start=(int(g["rows"][k]), int(g["cols"][k])),
            )
            out[b] = encode_patches(path.grey, g["base_hz"], g["gain_hz"])
        return out

    def draw(self, rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """``(x, labels)``: Poisson spikes (B, T, n_in) and the stimulus of each trial."""
        labels = rng.integers(0, self.n_out, size=batch_size)
        p = spike_probabilities(self.rates(rng, labels), self.dt)  # never clipped
        x = (rng.random((batch_size, self.n_steps, self.n_in)) < p).astype(np.float32)
        return x, labels

    def batch(self, rng: np.random.Generator, batch_size: int):
        x, labels = self.draw(rng, batch_size)
        return x, window_target(labels, self.n_steps, self.n_out, self.start)

    def metrics(self, y: np.ndarray, target: np.ndarray) -> dict[str, Any]:
        """The decoding error: the readout summed over the response window picks the wrong
        stimulus."""
        y = np.asarray(y)
        w = np.asarray(target).sum(axis=-1)  # (B, T) response-window weights
        labels = np.asarray(target).sum(axis=1).argmax(axis=-1)
        score = np.einsum("bt,btk->bk", w, y)
        return {"error_rate": float(np.mean(score.argmax(axis=-1) != labels))}


class StimulusTrials:
    """Every batch holds ``n_per_stimulus`` fresh noisy trials of each stimulus of ``stimuli``
    (labels in stimulus order, the same in every batch: :attr:`labels`), with the
    :func:`~infodyn.learning.info_objectives.window_target` of the response window from
    ``start``. :meth:`sampler` gives the batches of a run seeded by ``seed``."""

    def __init__(self, stimuli: StimulusSet, n_out: int, n_per_stimulus: int, start: int) -> None:
        require(isinstance(stimuli, StimulusSet), f"stimuli must be a StimulusSet, got {stimuli!r}")
        self.stimuli = stimuli
        # int() cut 2.5 to 2 and took "3", True and -1
        self.n_per_stimulus = whole_number(n_per_stimulus, "n_per_stimulus", minimum=1)
        self.start = whole_number(start, "start", maximum=stimuli.n_steps - 1)
        self.n_in = stimuli.n_in
        self.n_out = whole_number(n_out, "n_out", minimum=stimuli.n_stimuli)
        self.n_steps = stimuli.n_steps
        self.labels = np.repeat(np.arange(stimuli.n_stimuli), self.n_per_stimulus)

    def _batch(self, seed: int):
        x, labels = self.stimuli.trials(self.n_per_stimulus, seed=seed)
        return x, window_target(labels, self.n_steps, self.n_out, self.start)

    def batch(self, rng: np.random.Generator, batch_size: int):
        """One batch (``batch_size`` is fixed by the stimuli: ``n_per_stimulus`` each)."""
        return self._batch(int(rng.integers(2**31)))

    def sampler(self, seed: int) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
        """Iteration ``i`` draws its trials with seed ``seed * 100003 + i``."""
        return lambda i: self._batch(seed * 100_003 + i)

    def metrics(self, y: np.ndarray, target: np.ndarray) -> dict[str, Any]:
        return {}
