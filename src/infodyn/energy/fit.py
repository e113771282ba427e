"""Fit an Ising model to binary data: MPF (default), pseudolikelihood, exact maximum likelihood;
``model="k_pairwise"`` adds a potential V(K) on the count of active units (``kpairwise``).

The objectives (``objectives.py``) are jit-compiled JAX functions with autodiff gradients,
minimised by SciPy's L-BFGS-B. Repeated patterns are merged into (pattern, count) pairs first, so
spike words, which repeat a lot, cost only their distinct patterns. Early stopping: with
``validation`` data, the unregularised objective on it is evaluated after every L-BFGS iteration
and the fit stops ``patience`` iterations after its best value, returning the best parameters.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import jax
import numpy as np
from scipy.optimize import OptimizeResult, minimize
from threadpoolctl import threadpool_limits

from infodyn.energy._checks import (
    as_binary,
    check_trainable,
    positive_int,
    rng_seed,
    unbounded_pairs,
    warn_unbounded,
)
from infodyn.energy.kobjectives import (
    canonical_from_free,
    free_from_canonical,
    full_potential,
    make_k_objective,
    make_potential_hessian,
    n_potential,
    prepare_k_data,
)
from infodyn.energy.kpairwise import KPairwiseModel
from infodyn.energy.kprecondition import lbfgs_potential_preconditioned
from infodyn.energy.model import IsingModel
from infodyn.energy.objectives import MAX_ML_N, METHODS, make_objective, pack, prepare_data
from infodyn.energy.objectives import unpack_numpy as unpack
from infodyn.errors import (
    InputError,
    check_option_type,
    finite_reals,
    is_finite_number,
    make_rng,
    require,
    require_choice,
    require_flag,
)
from infodyn.memory import fits_in_memory, require_memory


def unique_patterns(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a binary array and their counts (order: lexicographic on packed bits)."""
    X = as_binary(X)  # packbits reads any non-zero as 1: [3, 0] and [1, 0] were one pattern
    packed = np.packbits(X, axis=1)
    _, first, counts = np.unique(packed, axis=0, return_index=True, return_counts=True)
    return X[first], counts.astype(np.float64)


def split_validation(X: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random split of the rows of X into (train, validation) with ``fraction`` held out."""
    require(0 < fraction < 1, f"validation fraction must be in (0, 1), got {fraction}")
    idx = make_rng(seed).permutation(X.shape[0])
    k = max(1, int(round(fraction * X.shape[0])))
    require(  # "leaves no training data" did not say how many rows there were
        k < X.shape[0],
        f"validation = {fraction:g} holds out {k} of the {X.shape[0]} training row(s) and "
        "leaves none to fit: give more rows, or no validation",
    )
    return X[idx[k:]], X[idx[:k]]


class _EarlyStop(Exception):
    pass


def _free_result(x: np.ndarray, nit: int, nfev: int, success: bool, message: str) -> Any:
    """The preconditioned run's outcome in the shape of scipy's OptimizeResult."""
    return OptimizeResult(x=x, nit=nit, nfev=nfev, success=success, message=message)


#: SciPy's L-BFGS-B (Fortran) indexes its workspace with 32-bit integers
_LBFGSB_MAX_WORKSPACE = 2**31 - 1


def _check_lbfgsb_size(n_params: int, maxcor: int) -> None:
    """Refuse a fit whose L-BFGS-B workspace, ``(2 m + 5) n + 11 m^2 + 8 m`` doubles (Byrd et
    al. 1995, the code's ``wa`` array), overflows its 32-bit indices: SciPy then crashes the
    process (a segfault at 5 x 10^7 parameters, patches of 100 x 100 pixels)."""
    words = (2 * maxcor + 5) * n_params + 11 * maxcor**2 + 8 * maxcor
    if words > _LBFGSB_MAX_WORKSPACE:
        raise InputError(
            f"an energy model of {n_params:,} parameters is beyond what L-BFGS-B can fit (its "
            f"workspace of {words:,} entries overflows 32-bit indices); use fewer units, e.g. "
            "smaller patches"
        )


#: bytes a direction of the K-pairwise Hessian holds per (distinct word, bit), in floats
#: (measured: 5,000 and 20,000 words of 100 bits peaked at 0.72 and 1.59 GB, batch 8)
_HESSIAN_FLOATS = 10


def _hessian_batch(n_words: int, n: int, itemsize: int) -> int:
    """How many Hessian directions of the K-pairwise fit to build at once (8, or fewer where
    8 do not fit in the free memory); refused, naming the need, where one does not: 200,000
    words of 100 bits tried 9.4 GB in JAX and ended in an internal error."""
    per_direction = _HESSIAN_FLOATS * n_words * n * itemsize
    for batch in (8, 4, 2):
        if fits_in_memory(batch * per_direction):
            return batch
    require_memory(
        per_direction,
        f"the K-pairwise fit's Hessian over {n_words:,} distinct words of {n} bits",
        "fit fewer words (a subset, or a longer bin or window), or model='pairwise'",
    )
    return 1


#: float64 n x n arrays a fit holds however few its rows (the pair counts, the couplings, their
#: gradient and the optimiser's step): a lower bound, checked before any is made
_COUPLING_COPIES = 4


#: floats the MPF and pseudo-likelihood objectives hold per (row, bit) of their data, the rows
#: padded to a power of two (measured, VmRSS peak, pairwise MPF, 200,000 words of 100 and 200
#: bits: 4.0 float32, 3.5 float64); the fit was not checked: 200,000 words of 200 bits took
#: 0.8 GiB (1.4 GiB in float64), unrefused under any INFODYN_MEMORY_LIMIT
_OBJECTIVE_FLOATS = 5


def _check_objective_memory(method: str, words: tuple[int, ...], n: int, itemsize: int) -> None:
    """Refuse, before the data are put on the device, an MPF or pseudo-likelihood fit whose
    objective does not fit in the free memory (:data:`_OBJECTIVE_FLOATS`); ``words``: the rows
    of each data set (fitted, held out: their distinct words, or every row with weights)."""
    if method == "ml":  # exact: 2^n states, n <= MAX_ML_N
        return
    rows = sum(1 << max(0, (max(1, k) - 1).bit_length()) for k in words)
    held_out = f" ({words[0]:,} fitted, {words[1]:,} held out)" if len(words) > 1 else ""
    advice = "fit fewer words (a subset, or a longer bin or window), or fewer units"
    require_memory(
        _OBJECTIVE_FLOATS * rows * n * itemsize,
        f"the {method} fit's objective over {sum(words):,} words of {n} bits{held_out}",
        advice + (", or precision='float32'" if itemsize == 8 else ""),
    )


def fit(
    X: Any,
    method: str = "mpf",
    l2: float = 0.0,
    l1: float = 0.0,
    validation: Any = None,
    patience: int = 20,
    maxiter: int = 2000,
    tol: float = 1e-10,
    gtol: float = 1e-8,
    init: IsingModel | None = None,
    weights: Any = None,
    seed: int = 0,
    precision: str = "float64",
    allow_constant: bool = False,
    model: str = "pairwise",
    l2_potential: float = 1e-3,
    coordinates: str = "free",
) -> IsingModel:
    """Fit ``E(x) = -1/2 x^T J x + theta^T x`` to the rows of ``X`` (M, n) in {0, 1}.

    Parameters
    ----------
    method: ``"mpf"`` (minimum probability flow), ``"pl"`` (pseudolikelihood) or ``"ml"``
        (exact maximum likelihood by enumeration, n <= 20).
    l2, l1: penalties ``l2 sum_{i<j} J_ij^2 + l1 sum_{i<j} |J_ij|`` added to the per-pattern
        objective (fields are not penalised).
    validation: held-out patterns (array) or a fraction of X to hold out (seeded by ``seed``);
        enables early stopping with ``patience`` iterations.
    maxiter, tol, gtol: L-BFGS-B limits (iterations, relative objective change, gradient).
    init: a model to start from (default: J = 0, fields of the independent model).
    weights: optional non-negative weight per row of X; only their ratios enter the fit.
        Whole numbers are taken as counts (the too-few-patterns warning counts them), other
        weights (probabilities) as relative weights of the rows (the warning counts the rows).
    precision: ``"float64"`` (default: L-BFGS line searches need an objective accurate to
        well below its changes near the optimum) or ``"float32"`` (about 2x faster, see
        benchmarks/RESULTS.md; fine for large n when a slightly looser optimum will do).
    allow_constant: fit even when a unit never changes (its field then grows until the
        optimiser stops; fine for storing patterns, meaningless as a density).
        Likewise, without l2, l1 or validation, a pair of units that never shows one of its
        four joint states (e.g. never both active) has no finite optimal coupling: the fit
        warns (:class:`~infodyn.energy.UnboundedCouplingWarning`) and counts such pairs
        in ``fit_info["unbounded_pairs"]`` (with validation they are counted without a
        warning; ``None``: regularised, not counted). A K-pairwise fit warns with validation too:
        early stopping did not hold such couplings there (on 11 sparse bits, with two units
        active once each, both MPF and PL put their mass on an unseen word: -71 bits a word
        against -0.4 for independent units; any l2 >= 1e-3 fitted it).
    model: ``"pairwise"`` (an :class:`IsingModel`) or ``"k_pairwise"`` (a
        :class:`~infodyn.energy.kpairwise.KPairwiseModel`, pairwise plus V(K), Tkacik et al.
        2014), whose potential has the curvature penalty ``l2_potential`` (``kobjectives``).
    coordinates: K-pairwise only, without L1: ``"free"`` (default) lets L-BFGS-B work on the
        gauge-free coordinates of ``kobjectives`` with the potential block preconditioned
        (``kprecondition``; same objective and optimum, far fewer iterations when counts near 0
        or many counts are rare: benchmarks/acceptance_thermo_kp_speed.py);
        ``"canonical"`` on the canonical parameters (the old path).

    Returns an :class:`IsingModel` whose ``fit_info`` records the optimiser's run (iterations,
    objective, convergence message, wall time, validation curve, best iteration).
    """
    allow_constant = require_flag("allow_constant", allow_constant)
    require_choice("method", method, METHODS)
    require_choice("model", model, ("pairwise", "k_pairwise"))
    for name, value in (("l1", l1), ("l2", l2), ("l2_potential", l2_potential)):
        check_option_type(name, value, float)  # None or text: a raw isfinite TypeError
        require(value >= 0, f"{name} must be >= 0, got {value}")
    l1, l2, l2_potential = float(l1), float(l2), float(l2_potential)  # 10**30: jit overflowed
    for name, value in (("tol", tol), ("gtol", gtol)):  # NaN or negative ran unchecked
        check_option_type(name, value, float)
        require(value >= 0, f"{name} must be >= 0, got {value}")  # 0: stop on the other
    require_choice("coordinates", coordinates, ("free", "canonical"))
    require_choice("precision", precision, ("float32", "float64"))
    patience = positive_int(patience, "patience")
    maxiter = positive_int(maxiter, "maxiter")
    seed = rng_seed(seed)
    given = X
    X = as_binary(X)  # one pattern is a memory to store(); its constant bits need allowing
    one_d = np.ndim(given) == 1
    n = X.shape[1]
    require(  # a 1-D array (one unit's series, say) was told "5 unit(s) never change"
        X.shape[0] > 1 or allow_constant,
        f"X is a single pattern of {n} units{' (a 1-D array is one pattern)' * one_d}: fit "
        "learns from many, shape (patterns, units) (one unit's series: X[:, None]); store() "
        "makes patterns memories",
    )
    require_memory(  # 10^6 units reached the unbounded-pair check's n x n counts: a raw
        _COUPLING_COPIES * n * n * 8,  # MemoryError trying 7.3 TiB
        f"a pairwise model of {n:,} units (its {n:,} x {n:,} couplings, their counts, "
        "gradient and the optimiser's copies, at least)",
        "fit fewer units (a subset of them)",
    )
    if method == "ml":
        require(
            n <= MAX_ML_N,
            f"exact maximum likelihood needs n <= {MAX_ML_N} (got {n}); use mpf or pl",
        )
    X_val = None
    if validation is not None:
        if np.isscalar(validation):
            require(weights is None, "weights cannot be combined with a validation fraction")
            require(  # float() read the text "0.2", and "a" was a raw ValueError
                is_finite_number(validation),
                f"validation must be a fraction in (0, 1) or held-out rows, got {validation!r}",
            )
            X, X_val = split_validation(X, float(validation), seed)
        else:
            X_val = as_binary(validation, "validation", n=n)
    if weights is None:
        Xu, w = unique_patterns(X)
    else:
        w = finite_reals(weights, "weights").reshape(-1)
        require(w.shape[0] == X.shape[0], "weights need one entry per row of X")
        require(
            bool(np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0),
            "weights must be >= 0 and not all 0",
        )
        Xu = X
    kp = model == "k_pairwise"
    n_v = n_potential(n) if kp else 0
    counts = weights is None or bool(np.all(w == np.round(w)))  # else scaling w changed it
    n_patterns = float(w.sum()) if counts else float(np.count_nonzero(w))
    check_trainable(Xu[w > 0], n_patterns, n * (n + 1) // 2 + n_v, allow_constant)
    # unregularised, a pair missing a joint state has no finite optimum: say so
    unbounded = None  # regularised: such pairs have a finite optimum, not counted
    if l1 == l2 == 0:  # with validation a pairwise fit's are held by early stopping: counted,
        # not warned of (it was None, read as "regularised", beside 15 such pairs)
        holds = X_val is not None and not kp
        unbounded = (
            len(unbounded_pairs(Xu, w)[0])
            if holds
            else warn_unbounded(Xu, w, early_stopping=X_val is not None)
        )
    if init is None:
        init = IsingModel.independent(X, pseudocount=0.5)
    require(isinstance(init, IsingModel) and init.n == n, "init must be an IsingModel with n units")
    split = l1 > 0
    if kp:
        init = KPairwiseModel.from_pairwise(init, init.potential).canonical()
    p0 = pack(init.J, init.theta, split)
    free = kp and not split and coordinates == "free" and n >= 3
    if kp:
        p0 = np.concatenate([p0, init.potential[n + 1 - n_v :]])
    if free:
        p0 = free_from_canonical(p0, n)
    m = n * (n - 1) // 2
    bounds = [(0.0, None)] * (2 * m) + [(None, None)] * (n + n_v) if split else None

    with jax.enable_x64(precision == "float64"):  # JAX >= 0.8 (pyproject's floor: 0.10)
        dtype = np.float64 if precision == "float64" else np.float32
        if kp:
            vgk, value = make_k_objective(method, n, split, free)
            prepare = prepare_k_data

            def vg(p: Any, d: Any, a: float, b: float) -> Any:
                return vgk(p, d, a, b, l2_potential)

        else:
            vg, value = make_objective(method, n, split)
            prepare = prepare_data
        Xv, wv = (None, None) if X_val is None else unique_patterns(X_val)
        words = (len(Xu),) if Xv is None else (len(Xu), len(Xv))  # the held-out words' too
        _check_objective_memory(method, words, n, np.dtype(dtype).itemsize)
        data = prepare(method, Xu, w, dtype)
        val_data = None if Xv is None else prepare(method, Xv, wv, dtype)
        n_eval = [0]

        def fun(p: np.ndarray) -> tuple[float, np.ndarray]:
            n_eval[0] += 1
            f, g = vg(np.asarray(p, dtype=dtype), data, l1, l2)
            return float(f), np.asarray(g, dtype=np.float64)

        curve: list[tuple[int, float]] = []
        best = {"p": p0.copy(), "val": np.inf, "iter": 0}

        def check(x: np.ndarray) -> None:
            if val_data is None:
                return
            it = len(curve) + 1
            v = float(value(np.asarray(x, dtype=dtype), val_data))
            curve.append((it, v))
            if v < best["val"] - 1e-12 * max(1.0, abs(v)):
                best.update(p=np.array(x), val=v, iter=it)
            elif it - best["iter"] >= patience:
                best["patience_ran_out"] = it
                raise StopIteration

        def callback(intermediate_result: Any) -> None:
            check(intermediate_result.x)

        t0 = time.perf_counter()
        options = {"maxiter": maxiter, "ftol": tol, "gtol": gtol, "maxcor": 20}
        # L-BFGS-B's own steps are vector operations of a few thousand entries: BLAS threads
        # only contend there (50x slower per iteration on a loaded 2-core machine).
        with threadpool_limits(limits=1, user_api="blas"):
            if free:
                batch = _hessian_batch(Xu.shape[0], n, np.dtype(dtype).itemsize)
                hw, k = make_potential_hessian(method, n, batch), n * (n + 1) // 2

                def hessian_w(x: np.ndarray) -> np.ndarray:
                    xd = np.asarray(x, dtype=dtype)
                    return np.asarray(hw(xd[:k], xd[k:], data, l1, l2, l2_potential))

                res = _free_result(
                    *lbfgs_potential_preconditioned(
                        fun, hessian_w, p0, n + 1, maxiter, options, callback=check
                    )
                )
            else:
                _check_lbfgsb_size(p0.size, options["maxcor"])
                res = minimize(
                    fun,
                    p0,
                    jac=True,
                    method="L-BFGS-B",
                    bounds=bounds,
                    callback=callback,
                    options=options,
                )
        wall = time.perf_counter() - t0
        p = res.x
        stopped_early = False
        if val_data is not None:
            if best["val"] < np.inf:
                stopped_early = best["iter"] < len(curve)
                p = best["p"]
            val_final = float(value(np.asarray(p, dtype=dtype), val_data))
        train_obj = float(value(np.asarray(p, dtype=dtype), data))
    if not np.isfinite(train_obj) or str(res.message).startswith("ABNORMAL"):
        warnings.warn(
            f"{method} fit stopped abnormally after {res.nit} iterations "
            f"(L-BFGS-B: {str(res.message).strip()}; objective {train_obj:.6g})",
            RuntimeWarning,
            stacklevel=2,
        )
    p = np.asarray(p, dtype=np.float64)
    if free:
        p = canonical_from_free(p, n)
    J, theta = unpack(p[: p.size - n_v], n, split)
    info = {
        "method": method,
        "model": model,
        "n_units": n,
        # whole-number weights are counts (of unique rows, say): the samples are their total,
        # as without weights (it said the rows: 30 for 3000 words); other weights, the rows
        "n_samples": int(round(w.sum())) if counts else int(X.shape[0]),
        "weight_total": float(w.sum()),
        "n_unique_patterns": int(Xu.shape[0]),
        "n_params": n * (n + 1) // 2 + n_v,
        "l1": float(l1),
        "l2": float(l2),
        "precision": precision,
        "objective": train_obj,
        "n_iterations": int(res.nit),
        "n_evaluations": int(n_eval[0]),
        "converged": bool(res.success) or stopped_early,
        # pairs with a joint state the data never show (None: regularised, not counted)
        "unbounded_pairs": unbounded,
        # SciPy's own words for a stop by the patience were "`callback` raised `StopIteration`."
        "message": (
            f"stopped early: the validation objective did not improve for {patience} "
            f"iterations after iteration {best['iter']}"
            if "patience_ran_out" in best
            else str(res.message)
        ),
        "wall_seconds": wall,
    }
    if val_data is not None:
        info.update(
            validation_objective=val_final,
            validation_curve=curve,
            best_iteration=int(best["iter"]),
            stopped_early=stopped_early,
            n_validation=int(X_val.shape[0]),
        )
    if kp:
        info["l2_potential"] = float(l2_potential)
        info["coordinates"] = "free" if free else "canonical"
        return KPairwiseModel(J, theta, full_potential(p[p.size - n_v :], n), info)
    return IsingModel(J, theta, info)
