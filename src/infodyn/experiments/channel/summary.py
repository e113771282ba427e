"""Summary of the channel sweep: means and 95 % t-intervals over seeds, and its figures."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from infodyn.errors import is_finite_number
from infodyn.plotting import pyplot


def summarize(
    rows: list[dict[str, Any]],
    keys=("mi_bits", "m", "m_naive", "tc_bits", "tc_gauss_bits", "rate_hz"),
) -> list[dict[str, Any]]:
    """Mean and 95 % t-interval over seeds for each (strength, condition).

    A seed whose value of a measure is NaN (an estimator that failed) is left out of that
    measure only: ``n_seeds`` counts every seed of the group, ``{key}_n`` the seeds that entered
    ``{key}`` and its interval ``{key}_ci95`` (half-width t_{0.975, n-1} s / sqrt(n), s with
    ddof = 1; NaN for n < 2).
    """
    groups: dict[tuple[float, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["strength"], r["condition"]), []).append(r)
    out = []
    order = {"untrained": 0, "rate": 1, "info": 2}
    for (g, cond), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
        rec: dict[str, Any] = {"strength": g, "condition": cond, "n_seeds": len(rs)}
        for k in keys:
            v = np.array([r[k] for r in rs], dtype=float)
            v = v[np.isfinite(v)]
            mean = float(v.mean()) if v.size else float("nan")
            half = (
                float(student_t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
                if v.size > 1
                else float("nan")
            )
            rec[k], rec[f"{k}_ci95"], rec[f"{k}_n"] = mean, half, int(v.size)
        out.append(rec)
    return out


def condition_means(
    rows: list[dict[str, Any]], keys=("mi_bits", "m", "rate_hz", "tc_bits")
) -> dict[str, dict[str, float]]:
    """Per condition (``untrained``, ``rate``, ``info``), the mean of each measure over the
    networks (input strength and seed) where every condition's value is finite, and their
    number (``{key}_n``): scalars a sweep over the channel's options can tabulate and plot
    (``means.info.mi_bits``), where the rows and the summary are lists. Each condition left
    out its own NaN before, so its m could average other networks than another's (untrained
    m from strength 2.5 only, trained m from 0.5 only: "training lowered m")."""
    conds = list(dict.fromkeys(r["condition"] for r in rows))
    networks: dict[tuple[Any, Any], dict[str, dict[str, Any]]] = {}
    for r in rows:
        networks.setdefault((r.get("strength"), r.get("seed")), {})[r["condition"]] = r
    out: dict[str, dict[str, float]] = {c: {} for c in conds}
    for k in keys:
        shared = [
            by_cond
            for by_cond in networks.values()
            if all(c in by_cond and is_finite_number(by_cond[c].get(k)) for c in conds)
        ]
        for c in conds:
            v = np.array([by_cond[c][k] for by_cond in shared], dtype=float)
            out[c][k] = float(v.mean()) if v.size else float("nan")
            out[c][f"{k}_n"] = len(shared)
    return out


def channel_figures(summary: list[dict[str, Any]]):
    """(info vs branching figure, before/after figure)."""
    plt = pyplot()
    colors = {"untrained": "0.5", "rate": "tab:blue", "info": "tab:red"}
    fig1, ax = plt.subplots(1, 2, figsize=(10, 4))
    for cond in ("untrained", "rate", "info"):
        rs = [r for r in summary if r["condition"] == cond]
        if not rs:
            continue
        for a, key, lab in (
            (ax[0], "mi_bits", "I(stimulus; response) [bits]"),
            (ax[1], "tc_bits", "total correlation [bits]"),
        ):
            a.errorbar(
                [r["m_naive"] for r in rs],
                [r[key] for r in rs],
                xerr=[r["m_naive_ci95"] for r in rs],
                yerr=[r[f"{key}_ci95"] for r in rs],
                fmt="o-",
                color=colors[cond],
                label=cond,
                capsize=3,
            )
            a.set_xlabel("m_naive (lag-1 regression, all units observed; not the MR m)")
            a.set_ylabel(lab)
    ax[0].legend()
    ax[0].set_title("information vs branching (95 % CI over seeds)")
    fig1.tight_layout()
    fig2, bx = plt.subplots(1, 3, figsize=(13, 4))
    strengths = sorted({r["strength"] for r in summary})
    conds = [c for c in ("untrained", "rate", "info") if any(r["condition"] == c for r in summary)]
    width = 0.8 / max(1, len(conds))
    for i, cond in enumerate(conds):
        rs = {r["strength"]: r for r in summary if r["condition"] == cond}
        xs = np.arange(len(strengths)) + i * width
        for a, key, lab in (
            (bx[0], "mi_bits", "I(S;R) [bits]"),
            (bx[1], "rate_hz", "rate [Hz]"),
            (bx[2], "m_naive", "m_naive (lag-1; not the MR m)"),
        ):
            a.bar(
                xs,
                [rs[g][key] if g in rs else np.nan for g in strengths],
                width,
                yerr=[rs[g][f"{key}_ci95"] if g in rs else np.nan for g in strengths],
                color=colors[cond],
                label=cond,
                capsize=2,
            )
            a.set_xticks(np.arange(len(strengths)) + 0.4 - width / 2)
            a.set_xticklabels([f"{g:g}" for g in strengths])
            a.set_xlabel("input strength")
            a.set_ylabel(lab)
    bx[0].legend()
    fig2.suptitle("before (untrained) and after training")
    fig2.tight_layout()
    return fig1, fig2
