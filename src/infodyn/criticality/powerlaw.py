"""Power-law fits by maximum likelihood with ``xmin`` chosen by the KS distance.

Method of Clauset, Shalizi & Newman (2009, SIAM Review 51:661):

* **discrete** data (integers ``x >= xmin``): ``p(x) = x^-alpha / zeta(alpha, xmin)``, the
  Hurwitz zeta; ``alpha`` maximises ``-alpha sum ln x_i - n ln zeta(alpha, xmin)`` (exact, by
  golden section on this concave function - not the ``estimate_discrete`` shortcut);
* **continuous** data: ``alpha = 1 + n / sum ln(x_i / xmin)`` (closed form);
* ``xmin`` minimises the Kolmogorov-Smirnov distance ``D = sup_x |F_emp(x) - F_fit(x)|`` over
  the tail (Clauset et al. 2009, eq. 3.9), scanning every distinct value that leaves at least
  ``min_tail`` points (continuous data: at most ``max_candidates`` of them unless
  ``max_candidates=None``, the exhaustive scan; a truncated scan says so in ``warnings``).
  One convention for both kinds of data: the supremum over all x. Continuous data: both sides
  of every step of F_emp; discrete data: every integer >= xmin, i.e. each observed value and the
  integer just before the next one (the powerlaw package evaluates discrete data at observed
  values only, which on sparse integer tails gives a smaller D and can move xmin);
* standard error of ``alpha`` from the Fisher information
  (``1/sqrt(n d^2 ln zeta / d alpha^2)``, resp. ``(alpha-1)/sqrt(n)``);
* likelihood-ratio comparisons on the tail against an exponential, a lognormal and a power law
  with exponential cutoff: :mod:`infodyn.criticality.powerlaw_compare` (re-exported here);
* optional goodness-of-fit p-value by the semi-parametric bootstrap (synthetic sets drawn from the
  fitted tail and the empirical body, each refitted including ``xmin``); ``p < 0.1`` rules the
  power law out.

The ``xmin`` scan is compiled with Numba (:mod:`infodyn.criticality._powerlaw_scan`) and stops
the KS sum of a candidate as soon as it exceeds the best distance so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from infodyn.criticality._common import warn
from infodyn.criticality._powerlaw_scan import (
    _ALPHA_LO,
    _alpha_discrete,
    _ks_discrete,
    _scan_continuous,
    _scan_discrete,
)
from infodyn.criticality.powerlaw_compare import (  # noqa: F401 - re-exported: their old home
    _LOGNORMAL_SIGMA_MAX,
    ALPHA_MAX,
    Comparison,
    _compare,
    _Degenerate,
    _j,
    _ll_cutoff,
    _ll_exponential,
    _ll_lognormal,
    _log1mexp,
    _log_diff_ndtr,
    _log_phi,
    _log_upper_gamma,
    _log_z_cutoff,
    _loglik_pl,
    _lognormal_terms,
    no_comparisons,
)
from infodyn.criticality.powerlaw_sampling import (  # noqa: F401 - re-exported: their old home
    MAX_DISCRETE_ALPHA,
    DrawsOverflow,
    sample_power_law,
)
from infodyn.errors import (
    InputError,
    as_array,
    finite_reals,
    is_finite_number,
    make_rng,
    require,
    require_flag,
    whole_number,
)
from infodyn.memory import require_memory


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class PowerLawFit:
    """Result of :func:`fit_power_law`.

    ``alpha``, its standard error ``sigma``, ``xmin``, the KS distance ``D`` of the tail,
    ``n_tail`` of ``n`` values above ``xmin``, the tail log-likelihood, ``comparisons`` by
    alternative name and the bootstrap goodness-of-fit ``p_value`` (None unless requested).
    """

    alpha: float
    sigma: float
    xmin: float
    D: float
    n_tail: int
    n: int
    discrete: bool
    loglikelihood: float
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    p_value: float | None = None
    n_bootstrap: int = 0
    meaningful: bool = True
    warnings: list[str] = field(default_factory=list)

    def ccdf(self, x: Any) -> np.ndarray:
        """Fitted ``P(X >= x)`` (discrete) or ``P(X > x)`` (continuous) for ``x >= xmin``."""
        x = self._support(x)
        if self.discrete:
            return special.zeta(self.alpha, x) / special.zeta(self.alpha, self.xmin)
        return (x / self.xmin) ** (1.0 - self.alpha)

    def pdf(self, x: Any) -> np.ndarray:
        """Fitted probability mass (discrete) or density (continuous) for ``x >= xmin``."""
        x = self._support(x)
        if self.discrete:
            return x ** (-self.alpha) / special.zeta(self.alpha, self.xmin)
        return (self.alpha - 1.0) / self.xmin * (x / self.xmin) ** (-self.alpha)

    def _support(self, x: Any) -> np.ndarray:
        """``x`` as float64 values ("a" was a raw ValueError; NaN gave NaN). Below ``xmin`` the
        fitted law is extended, not fitted."""
        return finite_reals(x, "x")

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": _j(self.alpha),
            "sigma": _j(self.sigma),
            "xmin": _j(self.xmin),
            "D": _j(self.D),
            "n_tail": self.n_tail,
            "n": self.n,
            "discrete": self.discrete,
            "loglikelihood": _j(self.loglikelihood),
            "comparisons": {k: v.to_dict() for k, v in self.comparisons.items()},
            "p_value": None if self.p_value is None else _j(self.p_value),
            "n_bootstrap": self.n_bootstrap,
            "meaningful": self.meaningful,
            "warnings": list(self.warnings),
        }


# ----------------------------------------------------------------------------- helpers
def _check_values(values: Any, discrete: bool) -> np.ndarray:
    x = as_array(values, "values")
    require(x.dtype.kind in "biuf", f"values must be numbers, got dtype {x.dtype}")
    require(x.ndim <= 1, f"values must be one list of observations (1-D), got shape {x.shape}")
    x = x.astype(np.float64).ravel()
    require(x.size > 0, "values is empty")
    if not np.all(np.isfinite(x)):
        raise InputError("values contain NaN or inf")
    require(bool(np.all(x > 0)), "power-law values must be > 0 (drop zeros first)")
    if discrete and np.any(x != np.round(x)):
        raise InputError("discrete=True needs integer values; use discrete=False for reals")
    if discrete and x.max() > 2.0**53:  # not exact integers in float64: the scan divided by 0
        raise InputError("discrete=True needs values <= 2^53; use discrete=False for such sizes")
    return np.sort(x)


def _candidates(counts_tail: np.ndarray, min_tail: int, n_unique: int) -> np.ndarray:
    """Indices of distinct values with at least ``min_tail`` points at or above them."""
    ok = counts_tail[:n_unique] >= min_tail
    ok[n_unique - 1] = False  # the largest value alone cannot be fitted
    return np.flatnonzero(ok)


def _no_fit(message: str, n: int, discrete: bool, compare: bool) -> PowerLawFit:
    """The NaN fit of data too few to fit, with ``message`` warned and kept."""
    warn(message)
    nan = float("nan")
    return PowerLawFit(
        nan, nan, nan, nan, 0, n, discrete, nan,
        comparisons=no_comparisons() if compare else {}, meaningful=False, warnings=[message],
    )  # fmt: skip


def _scan(
    x: np.ndarray, discrete: bool, min_tail: int, xmin: float | None, max_candidates: int | None
) -> tuple[float, float, float, int]:
    """``(xmin, alpha, D, n_tail)`` for sorted data ``x``."""
    if discrete:
        u, c = np.unique(x, return_counts=True)
        c = c.astype(float)
        if xmin is not None:  # fixed xmin: MLE and KS distance at exactly that value (a
            # tail of one value, a bootstrap's draw: alpha at its bound, D near 0)
            j = int(np.searchsorted(u, xmin))
            require(j < u.size, f"xmin={xmin} leaves no value")
            n_t = float(c[j:].sum())
            a = _alpha_discrete(float(xmin), float((c[j:] * np.log(u[j:])).sum() / n_t))
            return float(xmin), float(a), float(_ks_discrete(u, c, j, a, float(xmin))), int(n_t)
        tail = np.cumsum(c[::-1])[::-1]
        cand = _candidates(tail, min_tail, u.size)
        if cand.size == 0:
            return np.nan, np.nan, np.nan, 0
        j, a, d = _scan_discrete(u, c, cand.astype(np.int64))
        return float(u[j]), float(a), float(d), int(c[j:].sum())
    # continuous
    if xmin is not None:  # fixed xmin: closed-form MLE and the two-sided KS distance
        t = x[x >= xmin]
        require(t.size >= 1, f"xmin={xmin} leaves no value")
        if t[-1] == xmin:  # every value at xmin (a bootstrap's draw): the MLE's limit, a step
            return float(xmin), float("inf"), 0.0, int(t.size)
        a = 1.0 + t.size / float(np.sum(np.log(t / xmin)))
        fit = 1.0 - (t / xmin) ** (1.0 - a)
        i = np.arange(t.size)
        d = float(max(np.max(np.abs((i + 1) / t.size - fit)), np.max(np.abs(i / t.size - fit))))
        return float(xmin), float(a), d, int(t.size)
    starts = _continuous_starts(x, min_tail)
    if starts.size == 0:
        return np.nan, np.nan, np.nan, 0
    if max_candidates is not None and starts.size > max_candidates:
        starts = starts[np.unique(np.linspace(0, starts.size - 1, max_candidates).astype(int))]
    j, a, d = _scan_continuous(x, starts.astype(np.int64))
    if j < 0:
        return np.nan, np.nan, np.nan, 0
    return float(x[j]), float(a), float(d), int(x.size - j)


def _continuous_starts(x: np.ndarray, min_tail: int) -> np.ndarray:
    """Start indices of the continuous xmin candidates in sorted ``x`` (distinct values that
    leave ``>= min_tail`` points, not the largest)."""
    starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    return starts[((x.size - starts) >= min_tail) & (starts < x.size - 1)]


def _sigma(alpha: float, xmin: float, n: int, discrete: bool) -> float:
    if not discrete:
        return (alpha - 1.0) / np.sqrt(n)
    h = 1e-3

    def lz(a: float) -> float:
        return float(np.log(special.zeta(a, xmin)))

    a = max(alpha, _ALPHA_LO + h)
    info = (lz(a + h) - 2.0 * lz(a) + lz(a - h)) / h**2
    return float(1.0 / np.sqrt(n * info)) if info > 0 else float("nan")


# ----------------------------------------------------------------------------- main entry
#: bytes a fit holds a value beyond the values, by (discrete, compare) (measured, VmRSS peak,
#: 10^6 and 5 x 10^6 Pareto values: continuous 90-115 with the comparisons and 32-38 without,
#: discrete 24 and 18); 5 x 10^6 continuous values took 580 MB, unchecked
FIT_BYTES_PER_VALUE = {(False, True): 128, (False, False): 48, (True, True): 32, (True, False): 24}


def fit_power_law(
    values: Any,
    discrete: bool = True,
    xmin: float | None = None,
    *,
    min_tail: int = 50,
    compare: bool = True,
    bootstrap: int = 0,
    seed: int = 0,
    max_candidates: int | None = 2000,
) -> PowerLawFit:
    """Fit ``P(x) ~ x^-alpha`` for ``x >= xmin`` (Clauset, Shalizi & Newman 2009).

    Parameters
    ----------
    values
        Positive observations (e.g. avalanche sizes or durations); integers if ``discrete``.
    discrete
        Discrete (Hurwitz-zeta normalised) or continuous power law.
    xmin
        Fix ``xmin``; ``None`` scans all distinct values leaving ``>= min_tail`` points
        (continuous data: at most ``max_candidates`` of them, evenly spaced in rank;
        ``max_candidates=None`` is the exhaustive scan, and a truncated scan adds a note to
        ``warnings`` giving the number of candidates it skipped).
    compare
        Likelihood-ratio tests against exponential, lognormal and truncated power law.
    bootstrap
        Number of synthetic data sets for the goodness-of-fit p-value (0: none; Clauset et al.
        recommend ~2500 for two-digit precision).

    Notes
    -----
    Too few values (fewer than ``min_tail`` or fewer than two distinct ones; with a fixed
    ``xmin``, fewer than ``min_tail`` at or above it) give a NaN fit with
    a warning that the estimate is not meaningful; with ``compare`` its ``comparisons`` still
    name every alternative, with NaN entries (as does a comparison that could not be made).
    """
    discrete = require_flag("discrete", discrete)
    compare = require_flag("compare", compare)
    x = _check_values(values, discrete)
    require_memory(
        FIT_BYTES_PER_VALUE[discrete, compare] * x.size,
        f"a power-law fit to {x.size:,} values" + (" and its comparisons" if compare else ""),
        "fit a sample of the values, give xmin" + (", or compare=False" if compare else ""),
    )
    min_tail = whole_number(min_tail, "min_tail", minimum=2)  # 1.5, '2', True went in
    bootstrap = whole_number(bootstrap, "bootstrap")
    if xmin is not None:
        require(is_finite_number(xmin) and xmin > 0, f"xmin must be > 0, got {xmin}")
        require(not discrete or float(xmin) == round(xmin), "xmin must be an integer")
    n = x.size
    n_unique = np.unique(x).size
    if n_unique < 2 or (xmin is None and n < min_tail):
        msg = (
            f"{n} values ({n_unique} distinct): too few to fit a power law "
            f"(need >= {min_tail} and two distinct values); the fit is not meaningful"
        )
        return _no_fit(msg, n, discrete, compare)
    if max_candidates is not None:
        max_candidates = whole_number(max_candidates, "max_candidates (None: exhaustive)", 1)
    if xmin is not None and (why := _fixed_tail_too_small(x, float(xmin), min_tail)):
        return _no_fit(why, n, discrete, compare)  # (an exception before: docs say NaN fit)
    xm, alpha, D, n_tail = _scan(x, discrete, int(min_tail), xmin, max_candidates)
    notes: list[str] = []
    if not np.isfinite(alpha):
        msg = "no xmin candidate leaves enough points: the fit is not meaningful"
        return _no_fit(msg, n, discrete, compare)
    steep = alpha > ALPHA_MAX or (discrete and alpha >= ALPHA_MAX - 1e-3)  # (the continuous
    if steep:  # MLE is unbounded): not meaningful, as its warning says (it was flagged so)
        bound = "hit the upper bound" if alpha <= ALPHA_MAX else f"= {alpha:.4g} >"
        notes.append(f"alpha {bound} {ALPHA_MAX:g}: the tail is not a power law")
    tail = x[x >= xm]
    ll = float(_loglik_pl(tail, alpha, xm, discrete).sum())
    sigma = _sigma(alpha, xm, n_tail, discrete)
    n_cand = _continuous_starts(x, int(min_tail)).size if not discrete and xmin is None else 0
    if max_candidates is not None and n_cand > max_candidates:
        notes.append(
            f"the xmin scan tried {max_candidates} of {n_cand} candidates (evenly spaced in "
            "rank) and may have missed the optimum; max_candidates=None scans them all"
        )
    comparisons = _compare(tail, alpha, xm, discrete) if compare else {}
    notes += [
        f"the {c.alternative} fit stopped at a bound of its parameters ({c.params}): {c.bound}; "
        "that comparison is reported as 'neither'"
        for c in comparisons.values()
        if c.at_bound
    ]
    p_value = None
    if bootstrap:
        try:
            p_value, unfit = _bootstrap_p(
                x,
                xm,
                alpha,
                D,
                discrete,
                int(min_tail),
                xmin is not None,
                int(bootstrap),
                seed,
                max_candidates,
            )
            if unfit:
                why = (
                    f"no value at or above xmin={xmin:g}"
                    if xmin is not None
                    else f"no xmin candidate left {min_tail} values"
                )
                notes.append(
                    f"{unfit} of {bootstrap} synthetic sets could not be refitted ({why}) and "
                    "are left out of the p-value"
                )
        except DrawsOverflow:  # synthetic draws beyond float64 (alpha near 1): no p-value
            p_value = float("nan")
            notes.append(
                f"no goodness-of-fit p-value: synthetic power-law draws at alpha={alpha:.4g} "
                "exceed float64's range"
            )
    for s in notes:
        warn(s)
    return PowerLawFit(
        alpha,
        sigma,
        xm,
        D,
        n_tail,
        n,
        discrete,
        ll,
        comparisons,
        p_value,
        int(bootstrap),
        not steep,
        notes,
    )


def _fixed_tail_too_small(x: np.ndarray, xmin: float, min_tail: int) -> str:
    """Why the values at or above a fixed ``xmin`` cannot be fitted ("" if they can): fewer than
    ``min_tail`` (a tail of 2 values was fitted and called meaningful), or one value only (an
    unbounded MLE; it raised an error where the docs give a NaN fit)."""
    tail = x[x >= xmin]
    if tail.size < min_tail:
        return (
            f"only {tail.size} values >= xmin={xmin:g} (< min_tail={min_tail}): too few to fit "
            "a power law; the fit is not meaningful (a smaller min_tail fits it anyway)"
        )
    if tail[0] == tail[-1]:
        return (
            f"the {tail.size} values >= xmin={xmin:g} are all {tail[0]:g}: no power law can be "
            "fitted to one value; the fit is not meaningful"
        )
    return ""


def _bootstrap_p(
    x: np.ndarray,
    xm: float,
    alpha: float,
    D: float,
    discrete: bool,
    min_tail: int,
    fixed: bool,
    n_boot: int,
    seed: int,
    max_cand: int | None,
) -> tuple[float, int]:
    """Fraction of semi-parametric synthetic sets whose refitted KS distance is >= ``D``, and
    how many sets could not be refitted (no xmin candidate leaves ``min_tail`` values; at a fixed
    xmin, no value at or above it). Those are left out of the fraction, which is then that of
    the sets fitted as the data were (counted as below ``D`` they biased p low)."""
    rng = make_rng(seed)
    body = x[x < xm]
    n = x.size
    p_tail = np.mean(x >= xm)
    ge = unfit = 0
    for _ in range(n_boot):
        n_t = rng.binomial(n, p_tail)
        synth = np.concatenate(
            [
                sample_power_law(n_t, alpha, xm, discrete, rng),
                rng.choice(body, n - n_t) if body.size and n - n_t else np.empty(0),
            ]
        )
        synth.sort()
        if fixed and n_t == 0:
            d = float("nan")
        else:
            _, _, d, _ = _scan(synth, discrete, min_tail, xm if fixed else None, max_cand)
        unfit += not np.isfinite(d)
        ge += d >= D
    return (ge / (n_boot - unfit) if unfit < n_boot else float("nan")), unfit
