"""``infodyn criticality SPIKES --out DIR``: branching ratio, avalanches and power laws."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import typer

from infodyn.cli._reading import reading_progress
from infodyn.cli.app import app

#: the estimators' advice in the API's words, and the same in this command's flags
CLI_WORDS = (
    ("pass bias_correction=True", "pass --bias-correction"),
    ("a bin of at least n_ref + 1 steps", "--bin-ms of at least (n_ref + 1) dt"),
    ("kmin past the oscillation", "--kmin past the oscillation"),
    ("a smaller kmax", "a smaller --kmax"),
    ("coefficient_method='sm' (stationary-mean slopes)", "--method sm (stationary-mean slopes)"),
    ("use n_boot >= ", "use --n-boot >= "),
    ("n_boot = ", "--n-boot "),
    ("lower n_boot or kmax", "lower --n-boot or --kmax"),
    (
        ", or n_inner (the bootstrap-t's inner replicates)",
        ", or use --ci-method centred_percentile (no inner replicates)",
    ),
    ("kmax=", "--kmax "),
    ("kmin=", "--kmin "),
    ("lower kmin", "lower --kmin"),
    ("kmax must be", "--kmax must be"),  # its range check spoke the API's words alone
    ("kmin must be", "--kmin must be"),
)


def _as_pattern(api: str) -> re.Pattern[str]:
    """``api`` where it stands alone: not inside a path or a longer name (a file
    ``sweep/kmax=40/s.h5`` became ``sweep/--kmax 40/s.h5``), and ``name=`` only before a
    number that ends the word (not a file ``kmax=40.h5``)."""
    alone = r"(?<![\w/\\.=-])" if api[0].isalnum() else ""
    number = r"(?=-?\d+(?![\w./\\]))" if api.endswith("=") else ""
    return re.compile(alone + re.escape(api) + number)


_CLI_PATTERNS = [(_as_pattern(api), flag) for api, flag in CLI_WORDS]


def in_cli_words(text: str) -> str:
    """An estimator's message with its API arguments named as this command's flags."""
    for pattern, flag in _CLI_PATTERNS:
        text = pattern.sub(lambda _, flag=flag: flag, text)
    return text


@app.command()
def criticality(
    spikes: Path = typer.Argument(..., help="Spike file (.h5, .npz, .nwb, Neo) or phy folder."),
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    bin_ms: str = typer.Option(
        "step", "--bin-ms", help="Bin for the branching estimators: ms, 'iei' or 'step'."
    ),
    avalanche_bin_ms: str = typer.Option(
        "iei", "--avalanche-bin-ms", help="Bin for avalanches: ms, 'iei' or 'step'."
    ),
    kmax: int = typer.Option(None, "--kmax", help="Largest MR lag in bins (default: 5 tau)."),
    kmin: int = typer.Option(
        1, "--kmin", min=1, help="First MR lag fitted, in bins (past an oscillation)."
    ),
    method: str = typer.Option("ts", "--method", help="MR slopes: 'ts' or 'sm'."),
    n_boot: int = typer.Option(
        100, "--n-boot", min=0, max=10**6, help="Bootstrap replicates for intervals."
    ),
    ci_method: str = typer.Option(
        "centred_percentile",
        "--ci-method",
        help="Interval from the replicates: 'centred_percentile' or 'symmetric_t' "
        "(bootstrap-t, 21 times the fits).",
    ),
    gof_bootstrap: int = typer.Option(
        0,
        "--gof-bootstrap",
        min=0,
        max=10**5,
        help="Synthetic sets for the power-law goodness-of-fit p-value (2500: p to +-0.01).",
    ),
    min_tail: int = typer.Option(50, "--min-tail", min=2, help="Fewest points above xmin."),
    seed: int = typer.Option(
        0, "--seed", min=0, max=2**32 - 1, help="Bootstrap (and unit sampling) seed."
    ),
    units: str = typer.Option(None, "--units", help="Analyse only these units, e.g. '0-19,25'."),
    sample_fraction: float = typer.Option(
        None, "--sample-fraction", help="Analyse a random fraction of the units (subsampling)."
    ),
    bias_correction: bool = typer.Option(
        False,
        "--bias-correction",
        help="Remove the finite-trial bias of the slopes r_k (short trials against tau).",
    ),
) -> None:
    """Estimate m and tau (MR and naive), avalanche exponents, comparisons and crackling noise."""
    from infodyn.errors import InputError
    from infodyn.experiments.criticality_run import run_criticality

    if method not in ("ts", "sm"):
        raise InputError(f"--method must be 'ts' or 'sm' (the MR slopes), got {method!r}")
    with reading_progress(), _refusals_in_cli_words():  # a bar of the passes over a large file
        res = run_criticality(
            spikes,
            out,
            bin_ms=bin_ms,
            avalanche_bin_ms=avalanche_bin_ms,
            kmax=kmax,
            kmin=kmin,
            coefficient_method=method,
            n_boot=n_boot,
            ci_method=ci_method,
            gof_bootstrap=gof_bootstrap,
            min_tail=min_tail,
            seed=seed,
            units=units,
            sample_fraction=sample_fraction,
            bias_correction=bias_correction,
        )
    mr = res["branching"]["mr"]
    sf = res["avalanches"]["size_fit"] or {}
    tau = "nan" if mr["tau_ms"] is None else f"{mr['tau_ms']:.3g}"
    branching = (  # "MR m = nan" stood beside the warning that m is not reported
        "MR m not reported (see the warnings)"
        if mr["m"] is None
        else f"MR m = {mr['m']:.4f}, tau = {tau} ms"
    )
    alpha = sf.get("alpha")
    typer.echo(
        f"{branching}; {res['avalanches']['n']} avalanches, "
        f"alpha_S = {'nan' if alpha is None else f'{alpha:.3f}'}{_verdict(sf)} -> {out}"
    )
    if more := _durations_line(res["avalanches"]):  # (they were in results.json alone)
        typer.echo(more)
    for w in res["warnings"]:  # the estimator's advice, in this command's words
        typer.echo(f"warning: {in_cli_words(w)}", err=True)


@contextlib.contextmanager
def _refusals_in_cli_words() -> Iterator[None]:
    """An estimator's refusal ("kmax=495 is too large ...") in this command's words."""
    from infodyn.errors import InputError

    try:
        yield
    except InputError as exc:
        said = in_cli_words(str(exc))
        if said == str(exc):
            raise
        raise InputError(said) from None


def _durations_line(av: dict) -> str:
    """``alpha_D = ...; crackling gamma ...`` and the bootstrap p-values, for a second summary
    line ("" where no duration fit was made)."""
    df, sf, cr = av.get("duration_fit") or {}, av.get("size_fit") or {}, av.get("crackling")
    if df.get("alpha") is None:
        return ""
    parts = [f"alpha_D = {df['alpha']:.3f}{_verdict(df, 'durations')}"]
    if cr and cr.get("gamma_fitted") is not None and cr.get("gamma_predicted") is not None:
        verdict = {True: "consistent", False: "not within 2 SE", None: "SE unknown"}

        def se(key: str) -> str:
            return "n/a" if cr.get(key) is None else f"{cr[key]:.3f}"

        parts.append(
            f"crackling gamma = {cr['gamma_fitted']:.3f} +- {se('gamma_fitted_stderr')} "
            f"fitted vs {cr['gamma_predicted']:.3f} +- {se('gamma_predicted_stderr')} "
            f"from (alpha_D - 1)/(alpha_S - 1): {verdict[cr['consistent']]}"
        )
    p = {k: f.get("p_value") for k, f in (("sizes", sf), ("durations", df))}
    if any(v is not None for v in p.values()):  # --gof-bootstrap: p < 0.1 rejects the law
        parts.append(
            "power-law bootstrap p = "
            + ", ".join(
                f"{v:.3g} ({k}{': rejected' if v < 0.1 else ''})"
                for k, v in p.items()
                if v is not None
            )
        )
    return "; ".join(parts)


def _verdict(size_fit: dict, what: str = "sizes") -> str:
    """What the likelihood ratios say of the size (or duration) power law, for the summary
    line (an alpha_S printed alone read as a power law where the exponential and lognormal
    were favoured)."""
    if not size_fit.get("n_tail"):  # no fit: alpha_S nan
        return ""
    tail = f" on {size_fit['n_tail']} of {size_fit['n']} {what}"
    if not size_fit.get("comparisons"):
        return tail
    against = {k: c for k, c in size_fit["comparisons"].items() if c["favored"] == k}
    if against:
        listed = " and ".join(f"{k} (p = {c['p']:.2g})" for k, c in against.items())
        return f"{tail}, but {listed} {'fits' if len(against) == 1 else 'fit'} the tail better"
    won = [k for k, c in size_fit["comparisons"].items() if c["favored"] == "power_law"]
    return f"{tail}, favoured over {' and '.join(won)}" if won else f"{tail}, undecided"
