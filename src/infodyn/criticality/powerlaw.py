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
  with exponential cutoff (``x^-alpha e^-lambda x``). ``R = sum ln p_pl - ln p_alt``: ``R > 0``
  favours the power law. Non-nested alternatives use Vuong's normalised test
  ``p = erfc(|R| / (sigma sqrt(2 n)))``; the nested cutoff model uses the likelihood-ratio
  statistic ``2|R|`` against the 50:50 mixture of chi^2_0 and chi^2_1 (boundary at lambda = 0).
  Discrete alternatives are the exponential ``(1-q) q^(x-xmin)``, the lognormal binned on
  ``[x-1/2, x+1/2)`` and the cutoff law normalised by direct summation plus an integral tail;
* optional goodness-of-fit p-value by the semi-parametric bootstrap (synthetic sets drawn from the
  fitted tail and the empirical body, each refitted including ``xmin``); ``p < 0.1`` rules the
  power law out.

The ``xmin`` scan is compiled with Numba and stops the KS sum of a candidate as soon as it
exceeds the best distance so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from scipy import optimize, special, stats

from infodyn.criticality._common import warn
from infodyn.criticality._zeta import hurwitz_zeta
from infodyn.errors import InputError, require

ALPHA_MAX = 20.0
_LOGNORMAL_SIGMA_MAX = 100.0  # sigma -> inf is the power law itself (in log x, a flat parabola)
_ALPHA_LO = 1.0 + 1e-7


# ----------------------------------------------------------------------------- compiled scans
@numba.njit(cache=True)
def _alpha_discrete(xmin, mean_log):  # pragma: no cover - compiled
    """Maximise ``-alpha mean_log - ln zeta(alpha, xmin)`` on (1, ALPHA_MAX) by golden section."""
    lo, hi = _ALPHA_LO, ALPHA_MAX
    g = (np.sqrt(5.0) - 1.0) / 2.0
    x1 = hi - g * (hi - lo)
    x2 = lo + g * (hi - lo)
    f1 = -x1 * mean_log - np.log(hurwitz_zeta(x1, xmin))
    f2 = -x2 * mean_log - np.log(hurwitz_zeta(x2, xmin))
    for _ in range(80):
        if f1 > f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - g * (hi - lo)
            f1 = -x1 * mean_log - np.log(hurwitz_zeta(x1, xmin))
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + g * (hi - lo)
            f2 = -x2 * mean_log - np.log(hurwitz_zeta(x2, xmin))
        if hi - lo < 1e-10:
            break
    return 0.5 * (lo + hi)


@numba.njit(cache=True)
def _scan_discrete(u, c, cand):  # pragma: no cover - compiled
    """Best (index, alpha, D) over candidate indices ``cand`` into the sorted uniques ``u``."""
    nu = u.size
    tail_n = np.zeros(nu + 1)
    tail_l = np.zeros(nu + 1)
    for i in range(nu - 1, -1, -1):
        tail_n[i] = tail_n[i + 1] + c[i]
        tail_l[i] = tail_l[i + 1] + c[i] * np.log(u[i])
    best_d = np.inf
    best_j = -1
    best_a = np.nan
    for jj in range(cand.size):
        j = cand[jj]
        n = tail_n[j]
        a = _alpha_discrete(u[j], tail_l[j] / n)
        d = _sup_discrete(u, c, j, a, u[j], n, best_d)
        if d < best_d:
            best_d, best_j, best_a = d, j, a
    return best_j, best_a, best_d


@numba.njit(cache=True)
def _scan_continuous(x, cand):  # pragma: no cover - compiled
    """Best (start index, alpha, D) over candidate start indices into sorted data ``x``."""
    n_all = x.size
    suffix = np.zeros(n_all + 1)
    for i in range(n_all - 1, -1, -1):
        suffix[i] = suffix[i + 1] + np.log(x[i])
    best_d = np.inf
    best_j = -1
    best_a = np.nan
    for jj in range(cand.size):
        j = cand[jj]
        n = n_all - j
        xm = x[j]
        denom = suffix[j] - n * np.log(xm)
        if denom <= 0:
            continue
        a = 1.0 + n / denom
        d = 0.0
        for i in range(j, n_all):
            fit = 1.0 - (x[i] / xm) ** (1.0 - a)
            hi = abs((i - j + 1) / n - fit)
            lo = abs((i - j) / n - fit)
            e = hi if hi > lo else lo
            if e > d:
                d = e
                if d >= best_d:
                    break
        if d < best_d:
            best_d, best_j, best_a = d, j, a
    return best_j, best_a, best_d


@numba.njit(cache=True)
def _sup_discrete(u, c, j, a, xmin, n, stop):  # pragma: no cover - compiled
    """``sup_x |F_emp(x) - F(x)|`` over all integers ``x >= xmin`` (tail values ``u[j:]``).

    Between observed values ``u[i] < u[i+1]`` the empirical CDF is constant while the fitted
    one rises, so the supremum is attained at ``u[i]`` or at ``u[i+1] - 1``; both are checked
    (Clauset et al. 2009 evaluate every integer). Returns early once the distance is ``>= stop``.
    """
    z0 = hurwitz_zeta(a, xmin)
    cum = 0.0
    d = 1.0 - hurwitz_zeta(a, u[j]) / z0  # F(u[j] - 1): 0 unless xmin is not observed
    for i in range(j, u.size):
        cum += c[i]
        e = cum / n
        diff = abs(e - 1.0 + hurwitz_zeta(a, u[i] + 1.0) / z0)
        if i + 1 < u.size and u[i + 1] > u[i] + 1.0:  # a gap: F just before the next value
            diff = max(diff, abs(e - 1.0 + hurwitz_zeta(a, u[i + 1]) / z0))
        if diff > d:
            d = diff
            if d >= stop:
                break
    return d


@numba.njit(cache=True)
def _ks_discrete(u, c, j, a, xmin):  # pragma: no cover - compiled
    """KS distance (supremum) of the discrete power law (``a``, ``xmin``) to the tail ``u[j:]``."""
    n = 0.0
    for i in range(j, u.size):
        n += c[i]
    return _sup_discrete(u, c, j, a, xmin, n, np.inf)


@numba.njit(cache=True)
def _ccdf_table(a, xmin, n):  # pragma: no cover - compiled
    """``P(X >= x)`` for ``x = xmin .. xmin + n - 1`` of the discrete power law."""
    z0 = hurwitz_zeta(a, xmin)
    out = np.empty(n)
    for i in range(n):
        out[i] = hurwitz_zeta(a, xmin + i) / z0
    return out


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Comparison:
    """Likelihood-ratio comparison of the power law with one alternative on the tail."""

    alternative: str
    R: float
    p: float
    normalized_R: float
    nested: bool
    params: dict[str, float]
    at_bound: bool = False

    @property
    def favored(self) -> str:
        """``"power_law"``, the alternative, or ``"neither"`` (p >= 0.1, or the alternative's
        fit stopped at a bound of its parameters, so the ratio compares with a truncated fit)."""
        if self.at_bound or not np.isfinite(self.p) or self.p >= 0.1:
            return "neither"
        return "power_law" if self.R > 0 else self.alternative

    def to_dict(self) -> dict[str, Any]:
        return {
            "R": _j(self.R),
            "p": _j(self.p),
            "normalized_R": _j(self.normalized_R),
            "nested": self.nested,
            "favored": self.favored,
            "at_bound": self.at_bound,
            "params": {k: _j(v) for k, v in self.params.items()},
        }


def _j(v: float) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


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
        x = np.asarray(x, dtype=float)
        if self.discrete:
            return special.zeta(self.alpha, x) / special.zeta(self.alpha, self.xmin)
        return (x / self.xmin) ** (1.0 - self.alpha)

    def pdf(self, x: Any) -> np.ndarray:
        """Fitted probability mass (discrete) or density (continuous) for ``x >= xmin``."""
        x = np.asarray(x, dtype=float)
        if self.discrete:
            return x ** (-self.alpha) / special.zeta(self.alpha, self.xmin)
        return (self.alpha - 1.0) / self.xmin * (x / self.xmin) ** (-self.alpha)

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
    x = np.asarray(values)
    require(x.dtype.kind in "biuf", f"values must be numbers, got dtype {x.dtype}")
    x = x.astype(np.float64).ravel()
    require(x.size > 0, "values is empty")
    if not np.all(np.isfinite(x)):
        raise InputError("values contain NaN or inf")
    require(bool(np.all(x > 0)), "power-law values must be > 0 (drop zeros first)")
    if discrete and np.any(x != np.round(x)):
        raise InputError("discrete=True needs integer values; use discrete=False for reals")
    return np.sort(x)


def _candidates(counts_tail: np.ndarray, min_tail: int, n_unique: int) -> np.ndarray:
    """Indices of distinct values with at least ``min_tail`` points at or above them."""
    ok = counts_tail[:n_unique] >= min_tail
    ok[n_unique - 1] = False  # the largest value alone cannot be fitted
    return np.flatnonzero(ok)


def _scan(
    x: np.ndarray, discrete: bool, min_tail: int, xmin: float | None, max_candidates: int | None
) -> tuple[float, float, float, int]:
    """``(xmin, alpha, D, n_tail)`` for sorted data ``x``."""
    if discrete:
        u, c = np.unique(x, return_counts=True)
        c = c.astype(float)
        if xmin is not None:  # fixed xmin: MLE and KS distance at exactly that value
            j = int(np.searchsorted(u, xmin))
            require(j < u.size - 1, f"xmin={xmin} leaves fewer than two distinct values")
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
        require(t.size >= 2 and t[-1] > xmin, f"xmin={xmin} leaves fewer than two values")
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


def _loglik_pl(x: np.ndarray, alpha: float, xmin: float, discrete: bool) -> np.ndarray:
    if discrete:
        return -alpha * np.log(x) - np.log(special.zeta(alpha, xmin))
    return np.log((alpha - 1.0) / xmin) - alpha * np.log(x / xmin)


def _sigma(alpha: float, xmin: float, n: int, discrete: bool) -> float:
    if not discrete:
        return (alpha - 1.0) / np.sqrt(n)
    h = 1e-3

    def lz(a: float) -> float:
        return float(np.log(special.zeta(a, xmin)))

    a = max(alpha, _ALPHA_LO + h)
    info = (lz(a + h) - 2.0 * lz(a) + lz(a - h)) / h**2
    return float(1.0 / np.sqrt(n * info)) if info > 0 else float("nan")


# ----------------------------------------------------------------------------- alternatives
def _ll_exponential(x: np.ndarray, xmin: float, discrete: bool) -> tuple[np.ndarray, dict]:
    mean = float(np.mean(x - xmin))
    if mean <= 0:
        raise _Degenerate("all tail values equal xmin")
    if discrete:
        q = mean / (1.0 + mean)
        return np.log1p(-q) + (x - xmin) * np.log(q), {"lambda": -np.log(q)}
    lam = 1.0 / mean
    return np.log(lam) - lam * (x - xmin), {"lambda": lam}


def _log_diff_ndtr(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``log(Phi(hi) - Phi(lo))`` for ``lo < hi``, stable in both tails."""
    flip = lo > 0
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    lb = special.log_ndtr(b)
    la = special.log_ndtr(a)
    return lb + _log1mexp(lb - la)


def _log1mexp(d: np.ndarray) -> np.ndarray:
    """``log(1 - exp(-d))`` for ``d >= 0`` (accurate for small and large d)."""
    d = np.maximum(d, 1e-300)
    return np.where(d < np.log(2.0), np.log(-np.expm1(-d)), np.log1p(-np.exp(-d)))


def _lognormal_terms(
    mu: float,
    s: float,
    edges: tuple[np.ndarray, np.ndarray] | np.ndarray,
    cut: float,
    discrete: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-probabilities of the truncated lognormal and their gradients in ``(mu, ln s)``."""
    zc = (cut - mu) / s
    lq = special.log_ndtr(-zc)  # log P(X >= xmin)
    rc = np.exp(_log_phi(zc) - lq)  # phi(zc) / Q
    if discrete:
        lo, hi = edges
        za, zb = (lo - mu) / s, (hi - mu) / s
        lp = _log_diff_ndtr(za, zb)
        ra, rb = np.exp(_log_phi(za) - lp), np.exp(_log_phi(zb) - lp)
        d_mu = -(rb - ra) / s - rc / s
        d_ls = -(zb * rb - za * ra) - zc * rc
    else:
        lx = edges
        z = (lx - mu) / s
        lp = -0.5 * z * z - np.log(s * np.sqrt(2 * np.pi)) - lx
        d_mu = z / s - rc / s
        d_ls = z * z - 1.0 - zc * rc
    return lp - lq, d_mu, d_ls


def _log_phi(z: np.ndarray) -> np.ndarray:
    return -0.5 * z * z - 0.5 * np.log(2 * np.pi)


def _ll_lognormal(x: np.ndarray, xmin: float, discrete: bool) -> tuple[np.ndarray, dict]:
    """Truncated lognormal on ``x >= xmin`` by maximum likelihood (analytic gradient)."""
    xu, cnt = np.unique(x, return_counts=True)
    if discrete:
        edges_u: Any = (np.log(xu - 0.5), np.log(xu + 0.5))
        cut = np.log(xmin - 0.5)
    else:
        edges_u = np.log(xu)
        cut = np.log(xmin)

    # parameters (beta, ln s) with mu = cut - beta s^2: beta is the log-slope excess at xmin,
    # which stays finite along the ridge where a lognormal approaches a power law (s -> inf)
    def negll(p: np.ndarray) -> tuple[float, np.ndarray]:
        beta, ls = p
        s2 = np.exp(2 * ls)
        mu = cut - beta * s2
        with np.errstate(all="ignore"):
            lp, gm, gs = _lognormal_terms(mu, np.exp(ls), edges_u, cut, discrete)
        val = -(cnt * lp).sum()
        if not np.isfinite(val):
            return 1e300, np.zeros(2)
        dmu, dls = (cnt * gm).sum(), (cnt * gs).sum()
        return float(val), -np.array([-s2 * dmu, dls - 2.0 * beta * s2 * dmu])

    lx = np.log(x)
    sd = float(np.std(lx)) or 1.0
    slope = 1.0 + x.size / max(float(np.sum(lx - np.log(xmin))), 1e-12)  # continuous PL alpha
    best = None
    for b0, s0 in (((cut - float(np.mean(lx))) / sd**2, sd), (slope - 1.0, 5.0)):
        res = optimize.minimize(
            negll,
            np.array([b0, np.log(s0)]),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-100.0, 100.0), (np.log(1e-3), np.log(_LOGNORMAL_SIGMA_MAX))],
            options={"maxiter": 300},
        )
        if best is None or res.fun < best.fun:
            best = res
    beta, ls = best.x
    mu = cut - beta * np.exp(2 * ls)
    edges = (np.log(x - 0.5), np.log(x + 0.5)) if discrete else lx
    lp, _, _ = _lognormal_terms(mu, np.exp(ls), edges, cut, discrete)
    at_bound = ls >= np.log(_LOGNORMAL_SIGMA_MAX) - 1e-6 or abs(beta) >= 100.0 - 1e-6
    return lp, {"mu": float(mu), "sigma": float(np.exp(ls)), "_at_bound": bool(at_bound)}


def _upper_gamma(s: float, z: float) -> float:
    """Upper incomplete gamma ``Gamma(s, z)`` for any real ``s`` and ``z > 0``.

    ``s > 0`` from SciPy; ``s <= 0`` by the downward recurrence
    ``Gamma(s, z) = (Gamma(s + 1, z) - z^s e^-z) / s`` (DLMF 8.8.2) from ``s + n`` in (0, 1]
    (or ``E_1(z)`` when ``s`` is a non-positive integer).
    """
    if s > 0:
        return float(special.gammaincc(s, z) * special.gamma(s))
    n = int(np.ceil(-s))
    top = s + n
    if top == 0:
        g = float(special.exp1(z))
    else:
        g = float(special.gammaincc(top, z) * special.gamma(top))
    for j in range(n - 1, -1, -1):
        sj = s + j
        g = (g - z**sj * np.exp(-z)) / sj
    return g


def _log_z_cutoff(alpha: float, lam: float, xmin: float, discrete: bool, n_direct: int) -> float:
    """``ln sum_{x >= xmin} x^-alpha e^-lam x`` (discrete) or ``ln int_xmin^inf`` (continuous).

    The discrete sum is taken term by term for ``n_direct`` values and closed by the midpoint
    integral ``int_a^inf x^-alpha e^-lam x dx = lam^(alpha-1) Gamma(1-alpha, lam a)``.
    """
    shift = -alpha * np.log(xmin) - lam * xmin  # log of the first term

    def tail(a0: float) -> float:  # int_a0^inf x^-alpha e^-lam x dx / exp(shift)
        g = _upper_gamma(1.0 - alpha, lam * a0)
        return float(np.exp((alpha - 1.0) * np.log(lam) - shift) * g)

    if not discrete:
        return shift + np.log(tail(xmin))
    xs = xmin + np.arange(n_direct)
    terms = np.exp(-alpha * np.log(xs / xmin) - lam * (xs - xmin))
    total = terms.sum() + tail(xmin + n_direct - 0.5)  # midpoint rule for the smooth tail
    return shift + np.log(total)


def _ll_cutoff(
    x: np.ndarray, xmin: float, discrete: bool, alpha0: float
) -> tuple[np.ndarray, dict]:
    xu, cnt = np.unique(x, return_counts=True)
    lxu = np.log(xu)
    n = x.size
    n_direct = 1000  # midpoint-integral tail beyond: relative error ~ alpha^2 / (24 * 1000^2)

    def negll(p: np.ndarray) -> float:
        alpha, llam = p
        lam = np.exp(llam)
        try:
            lz = _log_z_cutoff(alpha, lam, xmin, discrete, n_direct)
        except (OverflowError, FloatingPointError, ValueError):
            return 1e300
        val = -((cnt * (-alpha * lxu - lam * xu)).sum() - n * lz)
        return float(val) if np.isfinite(val) else 1e300

    mean = float(np.mean(x))
    best = None
    for a0, l0 in ((alpha0, 1e-3 / mean), (max(alpha0 - 0.5, 0.1), 1.0 / mean)):
        with np.errstate(all="ignore"):
            res = optimize.minimize(
                negll,
                np.array([a0, np.log(l0)]),
                method="L-BFGS-B",
                bounds=[(-3.0, ALPHA_MAX), (np.log(1e-12 / mean), np.log(50.0))],
            )
        if best is None or res.fun < best.fun:
            best = res
    alpha, llam = best.x
    lam = float(np.exp(llam))
    lz = _log_z_cutoff(alpha, lam, xmin, discrete, n_direct)
    return -alpha * np.log(x) - lam * x - lz, {"alpha": float(alpha), "lambda": lam}


class _Degenerate(Exception):
    pass


def _compare(x: np.ndarray, alpha: float, xmin: float, discrete: bool) -> dict[str, Comparison]:
    ll_pl = _loglik_pl(x, alpha, xmin, discrete)
    n = x.size
    out: dict[str, Comparison] = {}
    for name in ("exponential", "lognormal", "truncated_power_law"):
        try:
            if name == "exponential":
                ll, par = _ll_exponential(x, xmin, discrete)
            elif name == "lognormal":
                ll, par = _ll_lognormal(x, xmin, discrete)
            else:
                ll, par = _ll_cutoff(x, xmin, discrete, alpha)
        except _Degenerate as exc:
            warn(f"comparison with {name} skipped: {exc}")
            continue
        at_bound = bool(par.pop("_at_bound", False))
        d = ll_pl - ll
        R = float(d.sum())
        sd = float(np.std(d))
        nested = name == "truncated_power_law"
        if nested:
            R = min(R, 0.0)  # the cutoff law contains the power law (lambda -> 0)
            p = 0.5 * float(stats.chi2.sf(-2.0 * R, 1)) if R < 0 else 1.0
            nR = float("nan")
        else:
            nR = R / (sd * np.sqrt(n)) if sd > 0 else 0.0
            p = float(special.erfc(abs(nR) / np.sqrt(2.0))) if sd > 0 else 1.0
        out[name] = Comparison(name, R, p, nR, nested, par, at_bound)
    return out


# ----------------------------------------------------------------------------- sampling
def sample_power_law(
    n: int,
    alpha: float,
    xmin: float,
    discrete: bool = True,
    seed: int | np.random.Generator = 0,
    table: int = 100_000,
) -> np.ndarray:
    """Draw ``n`` values from the power law ``x >= xmin``.

    Discrete: exact inverse transform on a table of ``P(X >= x)`` for ``table`` values above
    ``xmin``; beyond it (probability ``P(X >= xmin + table)``) the continuous approximation
    ``floor((x_T - 1/2) u^(-1/(alpha-1)) + 1/2)`` of Clauset et al. (2009, App. D).
    """
    require(alpha > 1, f"alpha must be > 1, got {alpha}")
    require(xmin > 0, "xmin must be > 0")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    u = rng.random(n)
    if not discrete:
        return xmin * (1.0 - u) ** (-1.0 / (alpha - 1.0))
    s = _ccdf_table(float(alpha), float(xmin), int(table))  # decreasing from 1
    # X = x with S(x+1) < u <= S(x): index = number of table entries with S >= u, minus 1
    idx = np.searchsorted(-s, -u, side="right") - 1
    out = xmin + idx.astype(float)
    far = idx >= table - 1
    if np.any(far):
        x_t = xmin + table - 1
        v = u[far] / s[-1]
        out[far] = np.floor((x_t - 0.5) * v ** (-1.0 / (alpha - 1.0)) + 0.5)
    return out


# ----------------------------------------------------------------------------- main entry
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
    Too few values (fewer than ``min_tail`` or fewer than two distinct ones) give a NaN fit with
    a warning that the estimate is not meaningful.
    """
    x = _check_values(values, discrete)
    require(int(min_tail) >= 2, "min_tail must be >= 2")
    require(int(bootstrap) >= 0, "bootstrap must be >= 0")
    if xmin is not None:
        require(np.isfinite(xmin) and xmin > 0, f"xmin must be > 0, got {xmin}")
        require(not discrete or float(xmin) == round(xmin), "xmin must be an integer")
    n = x.size
    nan = float("nan")
    n_unique = np.unique(x).size
    if n_unique < 2 or (xmin is None and n < min_tail):
        msg = (
            f"{n} values ({n_unique} distinct): too few to fit a power law "
            f"(need >= {min_tail} and two distinct values); the fit is not meaningful"
        )
        warn(msg)
        return PowerLawFit(
            nan, nan, nan, nan, 0, n, discrete, nan, meaningful=False, warnings=[msg]
        )
    if max_candidates is not None:
        max_candidates = int(max_candidates)
        require(max_candidates >= 1, "max_candidates must be >= 1 (None: exhaustive scan)")
    xm, alpha, D, n_tail = _scan(x, discrete, int(min_tail), xmin, max_candidates)
    notes: list[str] = []
    if not np.isfinite(alpha):
        msg = "no xmin candidate leaves enough points: the fit is not meaningful"
        warn(msg)
        return PowerLawFit(
            nan, nan, nan, nan, 0, n, discrete, nan, meaningful=False, warnings=[msg]
        )
    if alpha >= ALPHA_MAX - 1e-3:
        notes.append(f"alpha hit the upper bound {ALPHA_MAX}: the tail is not a power law")
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
        f"the {c.alternative} fit stopped at a bound of its parameters ({c.params}), where it "
        "approaches the power law: that comparison is reported as 'neither'"
        for c in comparisons.values()
        if c.at_bound
    ]
    p_value = None
    if bootstrap:
        p_value = _bootstrap_p(
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
        True,
        notes,
    )


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
) -> float:
    """Fraction of semi-parametric synthetic sets whose refitted KS distance is >= ``D``."""
    rng = np.random.default_rng(seed)
    body = x[x < xm]
    n = x.size
    p_tail = np.mean(x >= xm)
    ge = 0
    for _ in range(n_boot):
        n_t = rng.binomial(n, p_tail)
        synth = np.concatenate(
            [
                sample_power_law(n_t, alpha, xm, discrete, rng),
                rng.choice(body, n - n_t) if body.size and n - n_t else np.empty(0),
            ]
        )
        synth.sort()
        _, _, d, _ = _scan(synth, discrete, min_tail, xm if fixed else None, max_cand)
        ge += d >= D
    return ge / n_boot
