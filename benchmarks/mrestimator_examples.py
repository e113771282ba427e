"""infodyn's MR branching-ratio fit against mrestimator on mrestimator's own example setups.

mrestimator (Spitzner et al. 2021, PLoS ONE 16:e0249447) ships examples whose data come from its
driven branching process with a known m. This script regenerates data with the same generative
model and parameters (our own code, :func:`simulate_mre`: ``A_t ~ Poisson(m A_{t-1} + h_t)``,
thermalised for ``max(100, 0.05 length)`` steps from the activity ``a`` when ``h_0 > 0``,
binomial subsampling with probability ``subp``; numpy's ``default_rng`` instead of the global
seed, so the numbers are not mrestimator's own draws), fits m with mrestimator
(``coefficients(method="ts", steps=(1, kmax), numboot=100)``, ``fit("exponential", numboot=100)``,
95 % interval = its bootstrap 2.5 and 97.5 % quantiles) and with infodyn
(``branching_ratio(kmax=kmax, n_boot=100, coefficient_method="ts")``, plain and with
``bias_correction=True``), and records m, the 95 % intervals and whether they cover the true m.

The six setups (file in github.com/Priesemann-Group/mrestimator):

1. ``getting_started``: ``examples/getting_started/create_example_data.py`` and ``example.py``:
   m = 0.995, drive 2 per step with a pulse of 200 for 10 steps at one third, 10 trials of 10^4
   steps, subsampled to 10 %; fitted up to tmax = 8000 ms at dt = 4 ms, i.e. kmax = 2000.
2. ``paper_workflow``: ``examples/paper/workflow.py`` (the same setup as
   ``examples/basic_usage.ipynb``): m = 0.98, a = 1000, subp = 0.05, 10 trials of 20000 steps,
   kmax = 500.
3. to 5. ``paper_fig2_*``: ``examples/paper/coefficients.py`` (the paper's Figure 2): m = 0.98,
   a = 1000, 500 trials of 20000 steps, fully sampled and subsampled to 2 % and 0.1 % (the same
   full process), kmax = 300.
6. ``full_analysis_docstring``: the example of ``mrestimator.full_analysis``
   (``mrestimator/wrapper.py``): m = 0.95, h = 10, subp = 0.1, 50 trials of 10^4 steps,
   tmax = 1500 steps.

    OPENBLAS_NUM_THREADS=1 python benchmarks/mrestimator_examples.py [--out FILE] [--only NAME]
    OPENBLAS_NUM_THREADS=1 python benchmarks/mrestimator_examples.py --repeat N --only A,B

The first writes ``benchmarks/results/mrestimator_examples.md`` (and a JSON next to it); the
second, infodyn's coverage over N fresh draws of setups A, B, ...,
``benchmarks/results/mrestimator_examples_repeats.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "mrestimator_examples.md"
N_BOOT = 100


def simulate_mre(
    m: float,
    a: float | None = None,
    h: Any = None,
    length: int = 10_000,
    numtrials: int = 1,
    subp: float = 1.0,
    seed: int = 0,
    return_full: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """mrestimator's driven branching process (``simulate_branching``'s model), our own code.

    ``h`` is a constant or one drive value per step (its length then sets ``length``); without
    ``h`` the drive is ``a (1 - m)`` (stationary mean ``a``). With ``h_0 > 0`` and ``m < 1``
    the trials start at activity ``a`` (0 if only ``h`` is given) and are thermalised for
    ``max(100, int(0.05 length))`` steps at drive ``h_0``; then ``A_0 ~ Poisson(m x + h_0)``,
    ``A_t ~ Poisson(m A_{t-1} + h_t)``. ``subp < 1`` observes each event with probability subp.
    """
    rng = np.random.default_rng(seed)
    if h is None:
        drive = np.full(int(length), a * (1.0 - m))
        start = float(a)
    else:
        drive = np.asarray(h, dtype=float)
        drive = np.full(int(length), float(drive)) if drive.size == 1 else drive
        start = 0.0 if a is None else float(a)
    x = np.full(int(numtrials), start)
    if drive[0] != 0 and m < 1:
        for _ in range(max(100, int(drive.size * 0.05))):
            x = rng.poisson(m * x + drive[0])
    full = np.empty((int(numtrials), drive.size), dtype=np.int64)
    full[:, 0] = rng.poisson(m * x + drive[0])
    for t in range(1, drive.size):
        full[:, t] = rng.poisson(m * full[:, t - 1] + drive[t])
    obs = rng.binomial(full, subp) if subp < 1 else full
    return (obs, full) if return_full else obs


def _pulse_drive() -> np.ndarray:
    h = np.ones(10_000)
    h[len(h) // 3 : len(h) // 3 + 10] += 100
    return 2.0 * h


def cases() -> list[dict[str, Any]]:
    """The six setups: name, source file, true m, kmax, the seed of the recorded run and a
    function of the seed returning the data."""
    fig2: dict[int, np.ndarray] = {}

    def fig2_data(prob: float, seed: int) -> np.ndarray:
        if seed not in fig2:  # the three Figure 2 setups observe one full process
            fig2.clear()
            fig2[seed] = simulate_mre(0.98, a=1000, length=20_000, numtrials=500, seed=seed)
        if prob == 1.0:
            return fig2[seed]
        rng = np.random.default_rng([seed, int(1 / prob)])
        return rng.binomial(fig2[seed], prob)

    return [
        {
            "name": "getting_started",
            "source": "examples/getting_started/create_example_data.py, example.py",
            "setup": "m 0.995, h 2 (+200 for 10 steps), 10 x 10^4, subp 0.1",
            "m": 0.995,
            "kmax": 2000,
            "seed": 314,
            "data": lambda seed: simulate_mre(
                0.995, h=_pulse_drive(), numtrials=10, subp=0.1, seed=seed
            ),
        },
        {
            "name": "paper_workflow",
            "source": "examples/paper/workflow.py (= examples/basic_usage.ipynb)",
            "setup": "m 0.98, a 1000, 10 x 20000, subp 0.05",
            "m": 0.98,
            "kmax": 500,
            "seed": 43771,
            "data": lambda seed: simulate_mre(
                0.98, a=1000, subp=0.05, length=20_000, numtrials=10, seed=seed
            ),
        },
        {
            "name": "paper_fig2_full",
            "source": "examples/paper/coefficients.py",
            "setup": "m 0.98, a 1000, 500 x 20000, fully sampled",
            "m": 0.98,
            "kmax": 300,
            "seed": 2021,
            "data": lambda seed: fig2_data(1.0, seed),
        },
        {
            "name": "paper_fig2_subp_0.02",
            "source": "examples/paper/coefficients.py",
            "setup": "same process, subp 0.02",
            "m": 0.98,
            "kmax": 300,
            "seed": 2021,
            "data": lambda seed: fig2_data(0.02, seed),
        },
        {
            "name": "paper_fig2_subp_0.001",
            "source": "examples/paper/coefficients.py",
            "setup": "same process, subp 0.001",
            "m": 0.98,
            "kmax": 300,
            "seed": 2021,
            "data": lambda seed: fig2_data(0.001, seed),
        },
        {
            "name": "full_analysis_docstring",
            "source": "mrestimator/wrapper.py (full_analysis example)",
            "setup": "m 0.95, h 10, 50 x 10^4, subp 0.1",
            "m": 0.95,
            "kmax": 1500,
            "seed": 95,
            "data": docstring_data,
        },
    ]


def docstring_data(seed: int = 95) -> np.ndarray:
    """Setup 6 (also the test's data): ``simulate_branching(m=0.95, h=10, subp=0.1,
    numtrials=50)`` of full_analysis's docstring (recorded run: seed 95)."""
    return simulate_mre(0.95, h=10.0, numtrials=50, subp=0.1, seed=seed)


def fit_mrestimator(act: np.ndarray, kmax: int, seed: int = 0) -> dict[str, Any]:
    import mrestimator as mre

    logging.getLogger("mrestimator").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rk = mre.coefficients(act, steps=(1, kmax), method="ts", numboot=N_BOOT, seed=seed)
        fit = mre.fit(rk, fitfunc="exponential", numboot=N_BOOT, quantiles=[0.025, 0.975])
    return {
        "m": float(fit.mre),
        "ci": [float(v) for v in fit.mrequantiles],
        "r_k": np.asarray(rk.coefficients, dtype=float),
        "seconds": time.perf_counter() - t0,
    }


def fit_infodyn(act: np.ndarray, kmax: int, corrected: bool, seed: int = 0) -> dict[str, Any]:
    import infodyn.criticality as C

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CriticalityWarning)
        r = C.branching_ratio(
            act,
            kmax=kmax,
            n_boot=N_BOOT,
            seed=seed,
            coefficient_method="ts",
            bias_correction=corrected,
        )
    return {
        "m": float(r.m),
        "ci": [float(v) for v in r.m_ci],
        "r_k": np.asarray(r.r_k, dtype=float),
        "warnings": list(r.warnings),
        "seconds": time.perf_counter() - t0,
    }


def _covers(ci: list[float], m: float) -> bool:
    return bool(np.isfinite(ci).all() and ci[0] <= m <= ci[1])


def run(only: str | None = None) -> list[dict[str, Any]]:
    names = [case["name"] for case in cases()]
    if only and only not in names:  # it was "max() arg is an empty sequence" at the end
        raise SystemExit(f"--only {only!r}: no such setup; the setups are {', '.join(names)}")
    rows = []
    for case in cases():
        if only and case["name"] != only:
            continue
        t0 = time.perf_counter()
        act = case["data"](case["seed"])
        gen_s = time.perf_counter() - t0
        ref = fit_mrestimator(act, case["kmax"])
        plain = fit_infodyn(act, case["kmax"], False)
        corr = fit_infodyn(act, case["kmax"], True)
        row = {
            "name": case["name"],
            "source": case["source"],
            "setup": case["setup"],
            "shape": list(act.shape),
            "mean_activity": float(act.mean()),
            "m_true": case["m"],
            "kmax": case["kmax"],
            "generate_seconds": gen_s,
            "max_abs_r_k_diff": float(np.nanmax(np.abs(plain["r_k"] - ref["r_k"]))),
        }
        for key, res in (("mrestimator", ref), ("infodyn", plain), ("infodyn_bc", corr)):
            row[key] = {
                "m": res["m"],
                "ci": res["ci"],
                "covers": _covers(res["ci"], case["m"]),
                "seconds": res["seconds"],
            }
            if "warnings" in res:
                row[key]["warnings"] = res["warnings"]
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "source"}), flush=True)
    return rows


def repeat(names: list[str], n: int, path: Path, command: str) -> None:
    """Coverage of infodyn's intervals (plain and bias-corrected) over ``n`` fresh draws
    (seeds 10000 + i) of each named setup; mrestimator is not rerun (its point estimate equals
    infodyn's plain one, see the single-run table)."""
    lines = [
        "# infodyn's MR intervals on repeated draws of mrestimator's example setups",
        "",
        f"Command: `{command}`",
        "",
        f"Each setup of `benchmarks/mrestimator_examples.py` drawn {n} times (seeds 10000 + i), "
        f"`branching_ratio(kmax, n_boot={N_BOOT}, coefficient_method='ts')` plain and with "
        "`bias_correction=True`; 95 % intervals. Binomial standard error of a coverage of 0.95 "
        f"over {n} draws: {np.sqrt(0.95 * 0.05 / n):.3f}.",
        "",
        "| setup | true m | draws | fit | mean m | sd m | coverage | interval below m | above m |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for case in cases():
        if case["name"] not in names:
            continue
        t0 = time.perf_counter()
        res: dict[bool, list[list[float]]] = {False: [], True: []}
        for i in range(n):
            act = case["data"](10_000 + i)
            for corrected in (False, True):
                f = fit_infodyn(act, case["kmax"], corrected, seed=i)
                res[corrected].append([f["m"], *f["ci"]])
        m = case["m"]
        for corrected in (False, True):
            x = np.array(res[corrected])
            ok = np.isfinite(x).all(axis=1)
            cov = np.mean((x[:, 1] <= m) & (m <= x[:, 2]))
            lines.append(
                f"| {case['name']} | {m} | {n} ({(~ok).sum()} NaN) | "
                f"{'bias-corrected' if corrected else 'plain'} | {np.nanmean(x[:, 0]):.5f} | "
                f"{np.nanstd(x[:, 0]):.5f} | {cov:.3f} | {np.mean(x[:, 2] < m):.3f} | "
                f"{np.mean(x[:, 1] > m):.3f} |"
            )
            print(lines[-1], f"({time.perf_counter() - t0:.0f} s)", flush=True)
    path.write_text("\n".join(lines) + "\n")


def _fmt(res: dict[str, Any]) -> str:
    lo, hi = res["ci"]
    return f"{res['m']:.5f} [{lo:.5f}, {hi:.5f}]"


def write_markdown(rows: list[dict[str, Any]], path: Path, command: str) -> None:
    import mrestimator

    import infodyn

    lines = [
        "# MR branching ratio on mrestimator's example setups",
        "",
        f"Command: `{command}`",
        "",
        f"python {platform.python_version()}, numpy {np.__version__}, mrestimator "
        f"{mrestimator.__version__}, infodyn {infodyn.__version__}; {time.strftime('%Y-%m-%d')}"
        " (UTC), shared 2-core machine.",
        "",
        "Data regenerated with mrestimator's generative model and each example's parameters "
        "(`simulate_mre` in the script; our own random draws). Both packages fit the same "
        f"trial-separated slopes r_k, k = 1..kmax, with `b m^k`; intervals are 95 % from "
        f"{N_BOOT} bootstrap replicates over trials (mrestimator: its 2.5 and 97.5 % quantiles; "
        "infodyn: `m_ci`, bootstrap percentiles centred on the estimate with the small-sample "
        "factor). `bc`: `bias_correction=True`. 'covers': the interval contains the true m.",
        "",
        "| setup | source | trials x T | kmax | true m | mrestimator m [95 %] | covers | "
        "infodyn m [95 %] | covers | infodyn bc m [95 %] | covers | max abs r_k diff |",
        "|---|---|---|---:|---:|---|:-:|---|:-:|---|:-:|---:|",
    ]
    for r in rows:
        cells = []
        for key in ("mrestimator", "infodyn", "infodyn_bc"):
            cells += [_fmt(r[key]), "yes" if r[key]["covers"] else "**no**"]
        lines.append(
            f"| {r['name']}: {r['setup']} | `{r['source']}` | {r['shape'][0]} x {r['shape'][1]} | "
            f"{r['kmax']} | {r['m_true']} | "
            + " | ".join(cells)
            + f" | {r['max_abs_r_k_diff']:.1e} |"
        )
    n = len(rows)
    count = {k: sum(r[k]["covers"] for r in rows) for k in ("mrestimator", "infodyn", "infodyn_bc")}
    diff = max(abs(r["infodyn"]["m"] - r["mrestimator"]["m"]) for r in rows)
    lines += [
        "",
        f"Intervals covering the true m: mrestimator {count['mrestimator']} of {n}, infodyn "
        f"{count['infodyn']} of {n}, infodyn with bias correction {count['infodyn_bc']} of {n}. "
        f"Largest |m(infodyn) - m(mrestimator)| (same slopes, same model): {diff:.1e}.",
        "",
        "Seconds (mrestimator coefficients + fit with bootstrap / infodyn plain / infodyn bc): "
        + "; ".join(
            f"{r['name']} {r['mrestimator']['seconds']:.1f} / {r['infodyn']['seconds']:.2f} / "
            f"{r['infodyn_bc']['seconds']:.2f}"
            for r in rows
        )
        + ".",
    ]
    path.write_text("\n".join(lines) + "\n")
    path.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="markdown file (its .json beside it); default the record for all setups, and "
        "runs/ for --only (a subset never replaces the record)",
    )
    p.add_argument("--only", default=None, help="run one setup by name")
    p.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="instead: infodyn's coverage over this many draws of the setups named by "
        "--only (comma-separated), written to results/mrestimator_examples_repeats.md (or --out)",
    )
    args = p.parse_args()
    if args.out is None:
        args.out = OUT if not args.only else ROOT / "runs" / "mrestimator_examples_only.md"
        args.out.parent.mkdir(parents=True, exist_ok=True)
    cmd = "OPENBLAS_NUM_THREADS=1 python benchmarks/mrestimator_examples.py" + "".join(
        f" {a}" for a in sys.argv[1:]
    )
    if args.repeat:
        require_names = (args.only or "").split(",")
        given = "--out" in sys.argv[1:] or any(a.startswith("--out=") for a in sys.argv[1:])
        path = args.out if given else OUT.with_name("mrestimator_examples_repeats.md")
        repeat(require_names, args.repeat, path, cmd)
        print(f"-> {os.path.relpath(path, ROOT)}")
        return
    rows = run(args.only)
    write_markdown(rows, args.out, cmd)
    print(f"-> {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
