"""Information dynamics of discrete time series: transfer entropy, active information storage and
entropy rate (Schreiber 2000; Lizier, Prokopenko & Zomaya 2012), in bits by default (``base=``:
units of ``log_base``, e.g. ``math.e`` for nats).

With ``x_t^(k) = (x_{t-1}, ..., x_{t-k})`` the k-step history:

* ``TE(X -> Y) = I(Y_t ; X_{t-d+1}^(l) | Y_t^(k))``, i.e. source history ``(x_{t-d}, ...,
  x_{t-d-l+1})`` (``d = delay``, default 1). ``d = 1`` is Schreiber's definition (Schreiber
  2000, Phys. Rev. Lett. 85:461, eq. 4); with ``l = 1`` too it reads
  ``I(Y_t; X_{t-1} | Y_t^(k))``.
* conditional TE: also condition on ``Z_t^(m)`` (``m = condition_k``): ``I(Y_t; X_past | Y_past,
  Z_past)`` removes what a third process Z explains.
* ``AIS(X) = I(X_t^(k) ; X_t)``; entropy rate ``h_k = H(X_t | X_t^(k))``.

Inputs are ``(steps,)``, ``(steps, variables)`` (one trial; several columns are one joint
variable) or ``(trials, steps, variables)``. Histories never cross trials: every trial contributes
``steps - span`` samples to one pooled (stationary) estimate.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from infodyn.errors import InputError, whole_number
from infodyn.information._inputs import as_symbols, check_estimator, log_factor
from infodyn.information.estimators import UndersampledWarning, entropy_from_counts
from infodyn.information.measures import _cmi_words, _mi_words
from infodyn.information.words import _need_steps, encode, join, lagged, trial_view


def _series(x: Any, name: str) -> np.ndarray:
    """``x`` as ``(trials, steps, variables)`` symbols; a 2-D array with fewer steps than
    variables is refused: it is almost surely ``(trials, steps)`` (pyinform's layout, and
    :mod:`infodyn.criticality`'s), which read as one trial of ``steps`` variables gave a TE of 20
    trials of 500 steps of 0 bits instead of 0.53."""
    r = trial_view(x)
    flat = not hasattr(x, "to_dense") and np.ndim(x) == 2  # one 2-D array, read as one trial
    if flat and r.shape[1] < r.shape[2]:
        raise InputError(
            f"{name} is 2-D, read as (steps, variables): {r.shape[1]} steps of {r.shape[2]} "
            f"variables, fewer steps than variables; for {r.shape[1]} trials of {r.shape[2]} "
            f"steps of one variable pass it as (trials, steps, 1): x[..., None]"
        )
    # checked as symbols (integers >= 0) and taken in their integer form: float16 whole
    # numbers reached the word packer as floats (Numba: "NotImplementedError: float16")
    r = as_symbols(r.reshape(-1, r.shape[2]), name).reshape(r.shape)
    many = r.shape[2] > _MANY_VARIABLES and 2.0 ** r.shape[2] > r.shape[0] * r.shape[1]
    if flat and many:
        warnings.warn(  # (500, 20) of pyinform's (trials, steps) gave 0 bits, said undersampled
            f"{name} is 2-D, read as (steps, variables): {r.shape[1]} steps of a joint state of "
            f"{r.shape[2]} variables (at least 2^{r.shape[2]} states, more than the steps); "
            f"for {r.shape[1]} trials of {r.shape[2]} steps of one variable pass it as "
            "(trials, steps, 1): x[..., None]",
            UndersampledWarning,
            stacklevel=3,
        )
    return r


#: a 2-D series of more variables than this, and fewer steps than 2^variables, is warned
#: about: probably (trials, steps)
_MANY_VARIABLES = 8


def _positive(name: str, v: int) -> int:
    """A history length or delay: a whole number >= 1 (NaN, inf, ``True``, 2.5 refused)."""
    return whole_number(v, name, minimum=1)


def te_span(n_steps: int, k: int, l: int, delay: int, condition_k: int | None = None) -> int:
    """The steps of history a transfer entropy needs, ``max(k, delay + l - 1, condition_k)``,
    checked against ``n_steps`` with a message that names each."""
    span = max(k, delay + l - 1, condition_k or 0)
    what = f"k = {k} steps of target history and delay + l - 1 = {delay + l - 1} of source"
    what += f", condition_k = {condition_k}" if condition_k else ""
    _need_steps("the series", n_steps, span, what)  # it named the target for a delay of 500
    return span


def _same_shape(**series: np.ndarray) -> None:
    shapes = {k: v.shape[:2] for k, v in series.items()}
    if len(set(shapes.values())) > 1:
        detail = ", ".join(f"{k} is {s[0]} trials x {s[1]} steps" for k, s in shapes.items())
        raise InputError(f"the time series must have the same trials and steps: {detail}")


def transfer_entropy(
    source: Any,
    target: Any,
    k: int = 1,
    l: int = 1,
    delay: int = 1,
    condition: Any = None,
    condition_k: int = 1,
    estimator: str = "plugin",
    base: float = 2.0,
) -> float:
    """Transfer entropy ``TE(source -> target)`` in units of ``log_base`` (default bits; see
    module docstring).

    ``k`` target history, ``l`` source history, ``delay`` source-target lag, ``condition`` an
    optional third process (conditional TE) with history ``condition_k``.
    """
    check_estimator(estimator)
    f = log_factor(base)
    k, l, delay = _positive("k", k), _positive("l", l), _positive("delay", delay)
    condition_k = _positive("condition_k", condition_k)  # -1 without a condition: a typo kept
    x, y = _series(source, "source"), _series(target, "target")
    series = {"source": x, "target": y}
    z = None
    if condition is not None:
        z = _series(condition, "condition")
        series["condition"] = z
    _same_shape(**series)
    span = te_span(y.shape[1], k, l, delay, condition_k if z is not None else None)
    future = encode(lagged(y, [0], "target", span), validated=True)
    y_past = encode(lagged(y, range(1, k + 1), "target", span), validated=True)
    x_past = encode(lagged(x, range(delay, delay + l), "source", span), validated=True)
    if z is not None:
        z_past = encode(lagged(z, range(1, condition_k + 1), "condition", span), validated=True)
        y_past = join(y_past, z_past)
    return _cmi_words(future, x_past, y_past, estimator, warn=True) * f


def active_information_storage(
    x: Any, k: int = 1, estimator: str = "plugin", base: float = 2.0
) -> float:
    """Active information storage ``I(X_t^(k); X_t)`` in units of ``log_base`` (default bits)."""
    check_estimator(estimator)
    f = log_factor(base)
    k = _positive("k", k)
    r = _series(x, "x")
    future = encode(lagged(r, [0], "x", k), validated=True)
    past = encode(lagged(r, range(1, k + 1), "x", k), validated=True)
    return _mi_words(past, future, estimator, warn=True) * f


def entropy_rate(x: Any, k: int = 1, estimator: str = "plugin", base: float = 2.0) -> float:
    """Block estimate of the entropy rate ``h_k = H(X_t | X_t^(k)) = H_{k+1} - H_k`` in units of
    ``log_base`` (default bits).

    ``h_k`` decreases with ``k`` towards the entropy rate of the process (exact for a Markov
    chain of order <= k). Use a ``k`` for which the ``(k+1)``-blocks are well sampled.
    """
    check_estimator(estimator)
    f = log_factor(base)
    k = _positive("k", k)
    r = _series(x, "x")
    block = encode(lagged(r, range(0, k + 1), "x", k), validated=True)
    past = encode(lagged(r, range(1, k + 1), "x", k), validated=True)
    h_block = entropy_from_counts(block.counts(), estimator, block.alphabet_size)
    h_past = entropy_from_counts(past.counts(), estimator, past.alphabet_size, warn=False)
    return (float(h_block) - float(h_past)) * f
