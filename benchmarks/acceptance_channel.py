"""Acceptance run of the channel experiment (issue 6): I(stimulus; response) against the
measured branching parameter of 100-unit LIF networks trained to a fixed rate, with and without
the information objective, confidence intervals over seeds.

    .venv/bin/python benchmarks/acceptance_channel.py [--quick] [--out benchmarks/results/channel]

Writes the run directory OUT (results.json, table.csv, figures/) and ``OUT.md`` (the markdown
table) next to it (``benchmarks/results/channel.md`` for the default OUT, which is found from
the repository root wherever the script runs). ``--quick`` is a smoke run with short training;
its default OUT is ``runs/acceptance_channel_quick`` (not the record).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")


def config(quick: bool, objective: str = "infomax"):
    from infodyn.experiments.channel import ChannelConfig

    if objective != "infomax":  # a second objective: the info condition only, 3 strengths
        return ChannelConfig(
            n_in=100,
            n_rec=100,
            n_steps=120,
            response_start=30,
            input_strengths=[0.75, 1.5, 2.5],
            rec_scale=1.0,
            seeds=[0, 1, 2],
            n_iterations=120,
            trials_per_stimulus=4,
            test_trials_per_stimulus=40,
            lr=3e-4,
            rate_weight=3e-2,
            r0_hz=10.0,
            bin_steps=30,
            n_subsets=10,
            n_shuffles=10,
            objective=objective,
            conditions=["info"],
        )

    if quick:
        return ChannelConfig(
            n_in=100,
            n_rec=100,
            n_steps=80,
            response_start=20,
            input_strengths=[1.0, 3.0],
            seeds=[0, 1],
            n_iterations=5,
            trials_per_stimulus=4,
            test_trials_per_stimulus=20,
            n_subsets=4,
            n_shuffles=4,
        )
    return ChannelConfig(
        n_in=100,
        n_rec=100,
        n_steps=120,
        response_start=30,
        input_strengths=[0.5, 0.75, 1.0, 1.5, 2.5],
        rec_scale=1.0,
        seeds=[0, 1, 2],
        n_iterations=120,
        trials_per_stimulus=4,
        test_trials_per_stimulus=40,
        lr=3e-4,
        rate_weight=3e-2,
        r0_hz=10.0,
        bin_steps=30,
        n_subsets=10,
        n_shuffles=10,
    )


def markdown(results: dict, cfg, command: str, name: str = "channel") -> str:
    lines = [
        "# Channel experiment: information vs branching parameter",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, shared with other jobs "
        "(timings are not benchmarks). Networks: LIF, "
        f"{cfg.n_rec} units, {cfg.n_in} inputs, {cfg.n_stimuli} frozen {cfg.stimulus} stimuli, "
        f"trials of {cfg.n_steps} ms (response from {cfg.response_start} ms), target rate "
        f"{cfg.r0_hz} Hz, {cfg.n_iterations} e-prop iterations ({cfg.method}) of "
        f"{cfg.trials_per_stimulus * cfg.n_stimuli} trials, objective `{cfg.objective}`; "
        f"seeds {cfg.seeds}.",
        "",
        "I = shuffle-corrected plug-in I(stimulus; binary words of "
        f"{cfg.subset_size} units in {cfg.bin_steps}-ms bins), mean over {cfg.n_subsets} random "
        "subsets, bits; TC = plug-in total correlation of the same words; TC_G = Gaussian TC of "
        "all active units (1-ms bins); m = lag-1 regression branching parameter of the "
        "population activity (every unit observed, so the naive estimator is unbiased), m_MR = "
        "multistep-regression estimate (NaN where it cannot fit, e.g. m ~ 0). "
        "Mean +- 95 % t-interval over seeds.",
        "",
        "| input strength | condition | m | m_MR | I [bits] | TC [bits] | TC_G [bits] "
        "| rate [Hz] |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results["summary"]:

        def f(k, r=r):
            n = r.get(f"{k}_n", len(cfg.seeds))  # seeds whose value is finite
            some = f" ({n} of {len(cfg.seeds)} seeds)" if n < len(cfg.seeds) else ""
            return f"{r[k]:.3f} +- {r[k + '_ci95']:.3f}{some}"

        lines.append(
            f"| {r['strength']:g} | {r['condition']} | {f('m_naive')} | {f('m')} | "
            f"{f('mi_bits')} | "
            f"{f('tc_bits')} | {f('tc_gauss_bits')} | {f('rate_hz')} |"
        )
    lines += [
        "",
        f"Wall time: {results['wall_seconds']:.0f} s.",
        "",
        f"![info vs branching]({name}/figures/info_vs_branching.png)",
        f"![before/after]({name}/figures/before_after.png)",
        "",
    ]
    return "\n".join(lines)


def rebuild(out: Path) -> dict:
    """Recompute summary and figures from the rows of a finished run (same measurements)."""
    from infodyn.atomic import write_json
    from infodyn.experiments.channel import channel_figures, summarize
    from infodyn.experiments.rundir import RunDir

    results = json.loads((out / "results.json").read_text())
    results["summary"] = summarize(results["rows"])
    run = RunDir(out)
    fig1, fig2 = channel_figures(results["summary"])
    run.savefig(fig1, "info_vs_branching")
    run.savefig(fig2, "before_after")
    write_json(out / "results.json", results)
    return results


def main() -> None:
    from infodyn.experiments.channel import run_channel

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--out",
        default=None,
        help="run directory (default benchmarks/results/channel[_OBJECTIVE], with --quick "
        "runs/acceptance_channel_quick; OUT.md beside it)",
    )
    ap.add_argument(
        "--objective", default="infomax", choices=["infomax", "bottleneck", "decorrelation"]
    )
    ap.add_argument(
        "--from-results",
        action="store_true",
        help="rebuild the summary, figures and table from OUT/results.json",
    )
    args = ap.parse_args()
    if args.out is None:  # a smoke run never replaces the record
        here = Path(__file__).resolve().parent
        args.out = str(
            here.parent / "runs" / "acceptance_channel_quick"
            if args.quick
            else here
            / "results"
            / ("channel" + ("" if args.objective == "infomax" else f"_{args.objective}"))
        )
    cfg = config(args.quick, args.objective)
    t0 = time.perf_counter()
    if args.from_results:
        results = rebuild(Path(args.out))
    else:
        results = run_channel(cfg, args.out, progress=True)
    cmd = (
        "python benchmarks/acceptance_channel.py"
        + (" --quick" if args.quick else "")
        + ("" if args.objective == "infomax" else f" --objective {args.objective}")
    )
    md = markdown(results, cfg, cmd, Path(args.out).name)
    Path(args.out).parent.joinpath(Path(args.out).name + ".md").write_text(md)
    print(md)
    print(json.dumps({"wall_seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
