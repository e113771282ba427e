"""Acceptance experiment of issue 17 (not in CI): thermodynamics of learned energy functions.

Question: does the thermodynamic signature of criticality of Tkacik et al. (2015) - a peak of
the heat capacity per unit C(T)/N that grows with N and moves toward T = 1 - appear only for
networks near dynamical criticality, or also for subcritical networks and for null models
(latent common input, dichotomised Gaussian, independent, time-shuffled)?

(a) Networks: LIF networks trained with the deck's losses (benchmarks/acceptance_thermo_lif.py:
    200 units, weak Poisson drive, e-prop on W_rec with the per-unit target-rate loss at 10 Hz
    and the global-rate-variance loss; the input rate sets the branching ratio 1 - h/r0 that
    training approaches, six settings from -0.8 to 0.95; the trained weights are cached in
    benchmarks/results/acceptance_thermo_lif/). The branching ratio reached is measured with the
    MR estimator on the same fresh trials whose words are analysed (3 ms bins, binarised).
    120 of the 200 units are recorded; nested subsets of N = 10, 20, 40, 80, 120 of them are
    analysed. The null models are built from the ``NULL_BASE`` network's words (m_MR 0.95), each
    N's null from that subset. Labels: ``lif_mpred=0.9`` (a trained network), ``null:latent``.
    Secondary (the first run's stand-in, results kept as acceptance_thermo_branching_*.json):
    unit-resolved stochastic branching networks (Haldeman & Beggs 2005, PRL 94:058101;
    Kinouchi & Copelli 2006, Nat. Phys. 2:348), 300 units with k = 10 random outgoing edges, an
    active unit activating each target with probability m/k, spontaneous firing
    h = r0 max(1 - m, 0.01); labels ``m=0.5`` etc.
(b) Binarised natural-image patches (idn.data.natural_patches, binarised at the patch mean, as
    the images report does), 2x2 to 12x12.

For every data set and N: pairwise and K-pairwise fits (L2 = 1e-3; pseudolikelihood for the
networks: MPF with this L2 put > 99.99 % of the mass of the m = 1.0 network's N = 20 pairwise
model at K >= 10 active units, never seen in the data, and lost 18 bits/word against the
independent model, where PL gains 0.04 bits/unit; MPF for the image patches, as in the images
report; each K-pairwise fit starts from the pairwise fit), C(T)/N over 30
temperatures (exact for N <= 20, replica exchange otherwise), peak location and height, S(1)/N
(thermodynamic integration, and (<E> + log Z)/(N ln 2) as a check; log Z both by AIS and by
integrating <E> from infinite temperature),
the Zipf slope of the data and of model samples, the P(K) fit of both models (total variation
against held-out P(K)), and held-out likelihood gains over the independent model (exact log Z
for N <= 20, AIS above).

(c) ``refine-v``: the K-pairwise fit as in (a)/(b), then its potential V(K) refit by maximum
likelihood with J and theta fixed (idn.energy.refine_potential, Gibbs Monte Carlo, 15 updates of
20000 samples); P(K) total variation (chains from data words and from random words) and the
C(T)/N peak before and after (acceptance_thermo_refine_v_*.json).

    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py network --fast --T 20000 \
        --only lif_mpred=0.5,lif_mpred=0.8      # (several processes over the labels)
    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py images
    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py images --fast \
        --kinds k_pairwise --sizes 2,3,4,6 --kp-maxiter 3000   # K-pairwise rerun only
    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py network-kp --fast \
        --only lif_mpred=0.9 --kp-maxiter 3000   # refit the unconverged K-pairwise fits only
    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py refine-v --sizes "" \
        --only LIFS --n-units 120   # and 80; LIFS: the six lif_mpred=... labels, comma-separated
    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py refine-v --only "" \
        --sizes 8,10,12        # the same for the image patches
    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py bench
    PYTHONPATH=src .venv/bin/python benchmarks/acceptance_thermo.py summary
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import acceptance_thermo_lif as lif
import numpy as np
from numba import njit

import infodyn as idn
from infodyn.energy.thermo import exact_entropy, tempering_moments

OUT = Path(__file__).resolve().parent / "results"
NS = (10, 20, 40, 80, 120)
MS = (0.5, 0.8, 0.95, 1.0)  # the branching-network stand-in of the first run
LIFS = tuple(lif.TARGETS)
NULL_BASE = "lif_mpred=0.9"
MAXITER = {"pairwise": 500, "k_pairwise": 300}
NULLS = ("independent", "shuffle", "dichotomised_gaussian", "latent")
SIZES = (2, 3, 4, 6, 8, 10, 12)
TEMPS = np.geomspace(0.5, 3.0, 30)


@njit(cache=True)
def _branching_network(targets, p, h, T, seed):
    np.random.seed(seed)
    N, k = targets.shape
    X = np.zeros((T, N), dtype=np.uint8)
    for t in range(1, T):
        for i in range(N):
            if np.random.random() < h:
                X[t, i] = 1
        for j in range(N):
            if X[t - 1, j]:
                for e in range(k):
                    if np.random.random() < p:
                        X[t, targets[j, e]] = 1
    return X


def network_words(m: float, T: int, seed: int, n_net: int = 300, k: int = 10, r0: float = 0.03):
    """Words (T, 120) of 120 recorded units of a branching network with ratio m, and m_MR."""
    rng = np.random.default_rng(seed)
    targets = np.stack([rng.choice(n_net, k, replace=False) for _ in range(n_net)])
    X = _branching_network(targets, m / k, r0 * max(1 - m, 0.01), T + 2000, seed)[2000:]
    rec = rng.choice(n_net, 120, replace=False)
    br = idn.criticality.branching_ratio(X[:, rec].sum(1)[None, :].astype(float), n_boot=50)
    return X[:, rec], {"m_target": m, "m_mr": float(br.m), "m_mr_ci": list(map(float, br.m_ci))}


def _pk(X: np.ndarray) -> np.ndarray:
    return np.bincount(X.sum(1), minlength=X.shape[1] + 1) / X.shape[0]


def analyse(
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
    fast: bool = False,
    method: str = "pl",
    kinds: tuple[str, ...] = ("pairwise", "k_pairwise"),
    maxiter: dict | None = None,
    l2_potential: float = 1e-3,
    pairwise_init=None,
) -> dict:
    """Every measure of the module docstring for one data set (train/test words).

    The K-pairwise fit starts from the pairwise fit (its V = 0). ``kinds``: the models to report
    (the pairwise fit is made anyway, as the K-pairwise fit's start, unless ``pairwise_init``
    gives it). ``maxiter``: L-BFGS-B iteration limits per model."""
    maxiter = maxiter or {"pairwise": 500, "k_pairwise": 500}
    E = idn.energy
    n = train.shape[1]
    keep = (train.mean(0) > 0) & (train.mean(0) < 1)
    train, test = train[:, keep], test[:, keep]
    n = train.shape[1]
    allw = np.concatenate([train, test])
    res: dict = {"n": n, "n_train": len(train), "n_test": len(test), "rate": float(train.mean())}
    res["zipf_data"] = E.zipf_slope(allw, n_boot=100, seed=seed).to_dict()
    pk_test = _pk(test)
    res["pk_data"] = pk_test.tolist()
    fitted: dict = {}
    for kind in ("pairwise", "k_pairwise"):
        t0 = time.perf_counter()
        if kind == "pairwise" and kinds == ("k_pairwise",) and pairwise_init is not None:
            fitted[kind] = pairwise_init  # only the K-pairwise fit is wanted: init from here
            continue
        init = fitted.get("pairwise") if kind == "k_pairwise" else None
        model = E.fit(
            train,
            method=method,
            model=kind,
            l2=1e-3,
            maxiter=maxiter[kind],
            seed=seed,
            init=init,
            l2_potential=l2_potential,
        )
        fitted[kind] = model
        if kind not in kinds:
            continue
        r: dict = {
            "fit_seconds": time.perf_counter() - t0,
            "converged": model.fit_info["converged"],
            "n_iterations": model.fit_info["n_iterations"],
            "message": model.fit_info["message"],
            "init": "pairwise fit" if init is not None else "independent",
        }
        if n <= 20:
            lz, lz_err = model.log_partition("exact"), 0.0
        else:
            a = E.ais_log_partition(
                model.J,
                model.theta,
                n_chains=100,
                n_betas=1000 if fast else 3000,
                seed=seed,
                V=model.potential,
            )
            lz, lz_err = a.log_z, a.stderr
        rep = E.heldout_report(model, train, test, log_z=lz)
        r.update(
            log_z=lz,
            log_z_err=lz_err,
            test_bits=rep["model_test_bits"],
            gain_bits=rep["gain_over_independent_bits"],
            gain_bits_per_unit=rep["gain_over_independent_bits"] / n,
        )
        starts = train[np.random.default_rng(seed).choice(len(train), 64)]  # chains start at data
        samples = model.sample(len(allw), seed=seed, burn_in=300, thin=3, chains=64, init=starts)
        pk_model = _pk(samples)
        r["pk_model"] = pk_model.tolist()
        r["pk_tv"] = float(0.5 * np.abs(pk_model - pk_test).sum())
        r["zipf_model"] = E.zipf_slope(samples, n_boot=50, seed=seed).to_dict()
        sweeps = dict(n_sweeps=1500, burn_in=400) if fast else dict(n_sweeps=4000, burn_in=1000)
        hc = E.heat_capacity(
            model, TEMPS, method="exact" if n <= 20 else "mcmc", seed=seed, **sweeps
        )
        r["heat_capacity"] = hc.to_dict()
        if n <= 20:
            s = E.entropy(model, 1.0, method="exact", n_betas=31)
            r["entropy_bits_per_unit"], r["entropy_err"] = float(s.s_bits[0]), 0.0
            r["entropy_exact_bits_per_unit"] = float(exact_entropy(model, 1.0)[0])
            r["log_z_ti"], r["mean_energy_re"] = lz, None
        else:
            # thermodynamic integration from infinite temperature by replica exchange on 31
            # evenly spaced betas in [0, 1]: S(1) = n ln 2 - int b Var_b(E) db and
            # log Z(1) = n ln 2 - int <E>_b db (trapezoid rule)
            grid = np.linspace(0.0, 1.0, 31)
            mom = tempering_moments(model, grid, seed=seed, **sweeps, n_blocks=20)
            var_b = np.where(grid > 0, mom["c"] / np.where(grid > 0, grid, 1.0), 0.0)
            s_nats = n * np.log(2.0) - np.trapezoid(var_b, grid)
            r["entropy_bits_per_unit"] = float(s_nats / (n * np.log(2.0)))
            r["entropy_err"] = None
            r["log_z_ti"] = float(n * np.log(2.0) - np.trapezoid(mom["mean"], grid))
            r["mean_energy_re"] = float(mom["mean"][-1])
            r["min_swap_acceptance_ti"] = float(mom["acceptance"].min())
        # the same S(1)/N without the integral, from the data-started chains' <E>_1 and the log Z
        # that the held-out likelihood uses (exact for n <= 20, AIS from the independent model
        # above). When the model's equilibrium at T = 1 lies in states the data never visit
        # (a second mode), AIS and these chains stay in the data's mode: then log Z by AIS
        # falls below log_z_ti, this S below the integral's, and the held-out gain is too high
        # (the gain with log_z_ti is recorded too).
        e_mean = float(np.mean(model.energy(samples)))
        r["mean_energy_samples"] = e_mean
        r["entropy_direct_bits_per_unit"] = (e_mean + lz) / (n * np.log(2.0))
        r["gain_bits_per_unit_ti"] = (
            r["gain_bits_per_unit"] - (r["log_z_ti"] - lz) / np.log(2.0) / n
        )
        r["data_mode_only"] = bool(r["log_z_ti"] - lz > 1.0)
        if kind == "k_pairwise":
            r["V"] = model.centred().V.tolist()
        res[kind] = r
    return res


def _split(X: np.ndarray, seed: int, frac: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Hold out the last ``frac`` of the time series (contiguous: no leakage by autocorrelation)."""
    k = int(len(X) * (1 - frac))
    return X[:k], X[k:]


def _dump(name: str, obj: dict) -> None:
    OUT.mkdir(exist_ok=True)
    (OUT / f"acceptance_thermo_{name}.json").write_text(json.dumps(obj, indent=1))


def _dataset(label: str, T: int, seed: int) -> tuple[np.ndarray, dict]:
    """Words (T, 120) of one data set: ``lif_mpred=0.8`` (a trained LIF network, see
    acceptance_thermo_lif.py), ``m=0.5`` (a branching network, the stand-in of the first run) or
    ``null:KIND`` (a null model of the ``NULL_BASE`` network's words, each subset's null built
    from that subset)."""
    order = np.random.default_rng(seed).permutation(120)
    if label.startswith("lif"):
        X, info = lif.words(label, T, seed)
        return X[:, order], info
    if label.startswith("m="):
        X, info = network_words(float(label[2:]), T, seed)
        return X[:, order], info
    base, info = _dataset(NULL_BASE, T, seed)
    return base, {"null_of": NULL_BASE, "kind": label[5:], "base": info}


def _subset_words(X: np.ndarray, label: str, N: int, seed: int) -> np.ndarray:
    """The words of the first N units; for a ``null:KIND`` label, the null model's words of them."""
    Y = X[:, :N]
    if label.startswith("null:"):
        Y = idn.energy.null_words(Y, label[5:], seed=seed)
    return Y


def _patch_split(size: int, n: int, seed: int):
    """Binarised natural-image patches (size x size, at the patch mean), 20 % held out."""
    return idn.data.natural_patches(
        size=size,
        n=n,
        seed=seed,
        binarize="mean",
        held_out=0.2,
        min_contrast=0.02,
        details=True,
    )


def run_network(labels: list[str], T: int, seed: int, fast: bool, method: str) -> None:
    """Each data set to its own results file (several processes can share the list)."""
    for label in labels:
        X, info = _dataset(label, T, seed)
        out: dict = {"label": label, "T": T, "seed": seed, "temperatures": TEMPS.tolist()}
        out["fit_method"] = method
        out["dynamics"], out["subsets"] = info, {}
        print(f"{label}: {info.get('m_mr', '')}", flush=True)
        for N in NS:
            t0 = time.perf_counter()
            Y = _subset_words(X, label, N, seed)
            out["subsets"][str(N)] = analyse(*_split(Y, seed), seed, fast, method, maxiter=MAXITER)
            print(f"{label} N={N} done in {time.perf_counter() - t0:.0f}s", flush=True)
            _dump(f"network_{label.replace(':', '_')}", out)


def run_network_kp(labels: list[str], seed: int, fast: bool, method: str, kp_maxiter: int) -> None:
    """Refit the K-pairwise models of an existing network record that did not converge (each
    from a fresh pairwise fit, as the run did), up to ``kp_maxiter`` iterations, and replace
    their entries; the pairwise entries are kept."""
    for label in labels:
        name = f"network_{label.replace(':', '_')}"
        out = json.loads((OUT / f"acceptance_thermo_{name}.json").read_text())
        X, _ = _dataset(label, out["T"], seed)
        for N in NS:
            old = out["subsets"][str(N)]
            if old["k_pairwise"].get("converged"):
                continue
            t0 = time.perf_counter()
            Y = _subset_words(X, label, N, seed)
            res = analyse(
                *_split(Y, seed),
                seed,
                fast,
                method,
                kinds=("k_pairwise",),
                maxiter={"pairwise": MAXITER["pairwise"], "k_pairwise": kp_maxiter},
            )
            old["k_pairwise"] = {**res["k_pairwise"], "rerun_maxiter": kp_maxiter}
            out["k_pairwise_rerun"] = {"maxiter": kp_maxiter, "coordinates": "free"}
            print(f"{label} N={N} K-pairwise refit in {time.perf_counter() - t0:.0f}s", flush=True)
            _dump(name, out)


def run_images(
    n: int,
    seed: int,
    fast: bool,
    kinds: tuple[str, ...] = ("pairwise", "k_pairwise"),
    sizes: tuple[int, ...] = SIZES,
    kp_maxiter: int = 500,
    l2_potential: float = 1e-3,
) -> None:
    """Image patches, MPF fits. With ``kinds=("k_pairwise",)`` the K-pairwise results of the
    existing record are replaced (the pairwise entries kept), each fit starting from a fresh
    pairwise fit of the same patches."""
    f = OUT / "acceptance_thermo_images.json"
    out: dict = {"n_patches": n, "seed": seed, "temperatures": TEMPS.tolist(), "sizes": {}}
    if kinds != ("pairwise", "k_pairwise") and f.exists():
        out = json.loads(f.read_text())
        out["k_pairwise_rerun"] = {
            "init": "pairwise MPF fit",
            "maxiter": kp_maxiter,
            "l2_potential": l2_potential,
            "fast": fast,
        }
    for size in sizes:
        split = _patch_split(size, n, seed)
        t0 = time.perf_counter()
        res = analyse(
            split.train.values,
            split.test.values,
            seed,
            fast,
            "mpf",
            kinds=kinds,
            maxiter={"pairwise": 500, "k_pairwise": kp_maxiter},
            l2_potential=l2_potential,
        )
        old = out["sizes"].get(str(size * size), {})
        out["sizes"][str(size * size)] = {**old, **res}
        print(f"patch {size}x{size} done in {time.perf_counter() - t0:.0f}s", flush=True)
        _dump("images", out)


def _pk_check(model, train: np.ndarray, pk_test: np.ndarray, seed: int) -> dict:
    """P(K) of model samples against the held-out P(K): chains started at training words (as in
    ``analyse``) and at uniform random words (these find a second mode away from the data)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, starts in (
        ("data", train[rng.choice(len(train), 64)]),
        ("random", (rng.random((64, model.n)) < 0.5).astype(np.uint8)),
    ):
        S = model.sample(20000, seed=seed, burn_in=300, thin=3, chains=64, init=starts)
        pk = _pk(S)
        out[f"pk_tv_{name}_starts"] = float(0.5 * np.abs(pk - pk_test).sum())
        out[f"mass_above_15_{name}_starts"] = float(pk[16:].sum())
        out[f"pk_model_{name}_starts"] = pk.tolist()
    return out


def refine_v_case(train: np.ndarray, test: np.ndarray, seed: int, method: str, kp_maxiter: int):
    """Pairwise then K-pairwise fit (as ``analyse``), then ``refine_potential`` (MC, J and theta
    fixed); P(K) total variation and C(T)/N peak before and after."""
    E = idn.energy
    keep = (train.mean(0) > 0) & (train.mean(0) < 1)
    train, test = train[:, keep], test[:, keep]
    pk_test = _pk(test)
    pw = E.fit(train, method=method, l2=1e-3, maxiter=MAXITER["pairwise"], seed=seed)
    t0 = time.perf_counter()
    kp = E.fit(
        train, method=method, model="k_pairwise", l2=1e-3, maxiter=kp_maxiter, seed=seed, init=pw
    )
    res: dict = {"n": train.shape[1], "fit_seconds": time.perf_counter() - t0}
    res["fit_converged"] = kp.fit_info["converged"]
    t0 = time.perf_counter()
    ref = E.refine_potential(kp, train, method="mc", iterations=15, n_samples=20000, seed=seed)
    res["refine_seconds"] = time.perf_counter() - t0
    res["refine"] = ref.fit_info["refine_potential"]
    res["pk_data"] = pk_test.tolist()
    for tag, model in (("before", kp), ("after", ref)):
        r = _pk_check(model, train, pk_test, seed)
        how = "exact" if model.n <= 20 else "mcmc"  # as in ``analyse``
        hc = E.heat_capacity(model, TEMPS, method=how, seed=seed, n_sweeps=1500, burn_in=400)
        r["heat_capacity"] = hc.to_dict()
        r["V_centred"] = model.centred().V.tolist()
        res[tag] = r
    return res


def run_refine_v(
    labels: list[str],
    sizes: tuple[int, ...],
    seed: int,
    n_patches: int,
    n_units: tuple[int, ...] = (120,),
) -> None:
    """``refine_v_case`` for the first ``n_units`` units of the network words (T from the network
    record) and for the image patches ``sizes``; one results file per argument list."""
    out: dict = {"seed": seed, "temperatures": TEMPS.tolist(), "cases": {}}
    parts = (
        labels
        + [str(s) for s in sizes]
        + ([f"N{'_'.join(map(str, n_units))}"] if labels[0] else [])
    )
    name = f"refine_v_{'_'.join(p for p in parts if p).replace(':', '_')}"
    for label in labels:
        if not label:
            continue
        rec_name = f"acceptance_thermo_network_{label.replace(':', '_')}.json"
        rec = json.loads((OUT / rec_name).read_text())
        X, _ = _dataset(label, rec["T"], seed)
        for N in n_units:
            t0 = time.perf_counter()
            Y = _subset_words(X, label, N, seed)
            case = refine_v_case(*_split(Y, seed), seed, "pl", 3000)
            out["cases"][f"{label} N={N}"] = case
            print(f"{label} N={N} refined in {time.perf_counter() - t0:.0f}s", flush=True)
            _dump(name, out)
    for size in sizes:
        split = _patch_split(size, n_patches, seed)
        t0 = time.perf_counter()
        out["cases"][f"patch {size}x{size}"] = refine_v_case(
            split.train.values, split.test.values, seed, "mpf", 3000
        )
        print(f"patch {size}x{size} refined in {time.perf_counter() - t0:.0f}s", flush=True)
        _dump(name, out)


def _gibbs_baseline(model, sweeps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The peer without exchanges: one Gibbs chain per temperature, same sweeps and burn-in;
    C(T)/n and its jackknife error from the energies of the kept sweeps."""
    from infodyn.energy.thermo import _jackknife

    c, err = [], []
    for T in TEMPS:
        S = model.sample(sweeps, seed=seed, chains=1, burn_in=sweeps // 4, thin=1, temperature=T)
        e = model.energy(S)[:, None]
        cc, ce, *_ = _jackknife(e, np.array([1.0 / T]), 20)
        c.append(cc[0] / model.n)
        err.append(ce[0] / model.n)
    return np.array(c), np.array(err)


def run_bench(seed: int) -> None:
    """C(T) over 30 temperatures for n = 120: replica exchange against independent Gibbs chains
    (the same sweeps per temperature), CPU time and error bars."""
    X, info = network_words(0.95, 40000, seed)
    train, _ = _split(X, seed)
    train = train[:, (train.mean(0) > 0) & (train.mean(0) < 1)]
    model = idn.energy.fit(train, method="pl", l2=1e-3, maxiter=500, seed=seed)
    idn.energy.heat_capacity(model, TEMPS[:3], method="mcmc", n_sweeps=40, burn_in=0)  # compile
    model.sample(10, seed=0)
    rows = []
    for sweeps in (2000, 8000):
        for method in ("replica exchange", "Gibbs per temperature"):
            t0, c0 = time.perf_counter(), time.process_time()
            if method == "replica exchange":
                hc = idn.energy.heat_capacity(
                    model, TEMPS, method="mcmc", seed=seed, n_sweeps=sweeps, burn_in=sweeps // 4
                )
                c, err, acc = hc.c, hc.c_err, float(hc.swap_acceptance.min())
            else:
                c, err = _gibbs_baseline(model, sweeps, seed)
                acc = None
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            from infodyn.energy.thermo import peak

            tp, hp = peak(TEMPS, c)
            rows.append(
                {
                    "method": method,
                    "n": model.n,
                    "n_temperatures": TEMPS.size,
                    "n_sweeps": sweeps,
                    "burn_in": sweeps // 4,
                    "cpu_seconds": cpu,
                    "wall_seconds": wall,
                    "peak_temperature": tp,
                    "peak_height": hp,
                    "err_at_peak": float(err[np.argmax(c)]),
                    "median_rel_err": float(np.median(err / c)),
                    "min_swap_acceptance": acc,
                }
            )
            print(rows[-1], flush=True)
    _dump(
        "bench",
        {
            "rows": rows,
            "model": "pairwise PL fit to 120 units of the m = 0.95 branching network",
            "load_average": list(__import__("os").getloadavg()),
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "run", choices=["network", "network-kp", "images", "refine-v", "bench", "summary"]
    )
    ap.add_argument("--T", type=int, default=30000, help="network: words (steps) per network")
    ap.add_argument("--patches", type=int, default=30000, help="images: patches per size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", default="pl", help="network: fit method (images: mpf)")
    ap.add_argument("--fast", action="store_true", help="fewer sweeps, iterations and AIS steps")
    ap.add_argument(
        "--only",
        default=",".join(list(LIFS) + [f"null:{k}" for k in NULLS]),
        help="network: data sets, e.g. lif_mpred=0.9,null:latent (m=0.5: branching stand-in)",
    )
    ap.add_argument("--kinds", default="pairwise,k_pairwise", help="images: models to (re)fit")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="images: patch sizes")
    ap.add_argument(
        "--kp-maxiter", type=int, default=500, help="images, network-kp: K-pairwise iterations"
    )
    ap.add_argument("--l2-potential", type=float, default=1e-3, help="images: V(K) curvature")
    ap.add_argument("--n-units", default="120", help="refine-v: network subset sizes N")
    a = ap.parse_args()
    if a.run == "network":
        run_network(a.only.split(","), a.T, a.seed, a.fast, a.method)
    elif a.run == "network-kp":
        run_network_kp(a.only.split(","), a.seed, a.fast, a.method, a.kp_maxiter)
    elif a.run == "images":
        kinds = tuple(a.kinds.split(","))
        sizes = tuple(int(x) for x in a.sizes.split(","))
        run_images(a.patches, a.seed, a.fast, kinds, sizes, a.kp_maxiter, a.l2_potential)
    elif a.run == "refine-v":
        sizes = tuple(int(x) for x in a.sizes.split(",") if x)
        n_units = tuple(int(x) for x in a.n_units.split(","))
        run_refine_v(a.only.split(","), sizes, a.seed, a.patches, n_units)
    elif a.run == "bench":
        run_bench(a.seed)
    else:
        from acceptance_thermo_report import summary

        summary()


if __name__ == "__main__":
    main()
