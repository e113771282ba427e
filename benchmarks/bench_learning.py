"""Benchmark of issue 3: e-prop and BPTT in infodyn against snnTorch BPTT.

One training step (loss + gradients of every weight) of a LIF network with B = 32 sequences,
N = 256 recurrent units, 80 Poisson inputs (20 Hz), one leaky readout and an MSE loss on a sine
target, for T in {250, 1000, 4000} steps. Rows:

- ``forward``: the JAX engine's forward pass only (no gradients; ``engine_jax.run``, which
  returns v, z, thr and y at every step): the reference for e-prop.
- ``forward_loss``: the bare forward pass that only sums the loss statistics (e-prop's first
  pass; no per-step outputs): the lower bound of any forward pass.
- ``eprop``: e-prop with factorised LIF traces (``filter_readout=False``: no per-synapse state).
- ``eprop_filtered``: exact e-prop with the readout filter, as ``idn.learning.gradients``
  computes it for a whole sequence (``lookahead``: one extra forward pass records the readout
  error, filtered backwards; the traces stay factorised).
- ``eprop_filtered_carried``: the same gradient with per-synapse B x n_pre x N filtered traces
  carried forward (what an online run with weight updates inside a sequence needs).
- ``bptt``: ``jax.grad`` through the surrogate, forward recomputed in ceil(sqrt(T))-step chunks
  in the backward pass (the default of ``idn.learning.gradients``; memory grows like sqrt(T)).
- ``bptt_plain``: the same without recomputation (``remat=False``; memory grows with T).
- ``snntorch``: snnTorch ``RLeaky`` + a leaky readout, ``loss.backward()`` (PyTorch CPU).

Every measurement runs in its own process (``--worker``); time is the median wall time of
``--repeats`` calls after one warm-up call; memory is reported twice: the peak resident growth
of the first call (JAX compilation included) and the high-water-mark growth during the timed
calls (reset after the warm-up). infodyn runs in
``.venv`` (float32), snnTorch in ``.venv-bench``; both use one thread (with two threads,
torch's thread pool collapsed under the shared machine's load: 8x slower than one thread).
The machine is shared: absolute times move with its load; the ratios in the same run are what
the issue's targets are about.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_learning.py --write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Learning: e-prop and BPTT (issue 3)"
COMMAND = ".venv/bin/python benchmarks/bench_learning.py --write"
B, N, N_IN = 32, 256, 80
TAU_M, TAU_OUT, V_TH = 30.0, 30.0, 0.03


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _data(steps: int):
    rng = np.random.default_rng(0)
    x = (rng.random((B, steps, N_IN)) < 0.02).astype(np.float32)
    tgt = np.sin(2 * np.pi * np.arange(steps) / 200.0)[None, :, None] * np.ones((B, 1, 1))
    return x, tgt.astype(np.float32)


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the kernel's resident-set high-water mark (Linux ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _trim_heap() -> None:
    """Give freed heap memory back to the OS (glibc ``malloc_trim``), so that memory the warm-up
    freed but malloc kept (PyTorch's CPU tensors) is allocated again, and counted, in the timed
    calls, as XLA's buffers are."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _timeit(fn, repeats: int) -> tuple[float, float, float]:
    """Median wall time of ``repeats`` calls after a warm-up call; the peak resident memory
    growth during the first call (from a fresh process: JAX's compilation included, and no
    allocator cache to reuse) and during the timed calls (high-water mark reset after the
    warm-up; a caching allocator can hide what the warm-up already reserved)."""
    base = _peak_mb()
    fn()  # warm-up (compilation)
    first = _peak_mb() - base
    _trim_heap()
    if _reset_peak() and _status_mb("VmRSS") is not None:
        base, peak = _status_mb("VmRSS"), lambda: _status_mb("VmHWM")
    else:
        peak = _peak_mb
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), peak() - base, first


def _infodyn_case(method: str, steps: int):
    """``(fn, xla_mb)`` for one infodyn row: ``fn()`` runs one call and returns the activity;
    ``xla_mb()`` is XLA's buffer assignment of the compiled call (working buffers + results,
    inputs excluded; deterministic, unlike the resident-memory measures)."""
    import jax
    import jax.numpy as jnp

    import infodyn as idn
    from infodyn.learning.bptt import bptt_window
    from infodyn.learning.eprop import eprop_window, zero_carry
    from infodyn.learning.losses import as_loss
    from infodyn.network.dynamics import Constants
    from infodyn.network.engine_jax import lower, run

    net = idn.network.LIF(
        n_in=N_IN, n_rec=N, n_out=1, tau_m=TAU_M, tau_out=TAU_OUT, v_th=V_TH, in_scale=3.0
    )
    p = {k: jnp.asarray(v, jnp.float32) for k, v in net.init(seed=0).items()}
    x, tgt = _data(steps)
    xt, tt = jnp.asarray(np.swapaxes(x, 0, 1)), jnp.asarray(np.swapaxes(tgt, 0, 1))
    c, beta, loss = Constants.of(net), jnp.zeros(N, jnp.float32), as_loss("mse")

    if method == "forward_loss":
        from infodyn.learning.eprop import _forward_pass

        state0 = zero_carry(B, N_IN, N, 1, jnp.float32, 0, False).state
        call = jax.jit(lambda *a: _forward_pass(c, loss, net.dt, *a))
        args, kw = (p, beta, state0, xt, tt), {}

        def fn():
            jax.block_until_ready(call(*args))
            return float("nan")
    elif method == "forward":
        # run is a plain function (its layouts are chosen outside jit): engine_jax.lower
        # gives its compiled form, as jax.jit's .lower does for the others
        call, args, kw = SimpleNamespace(lower=lower), (c, p, beta, jnp.asarray(x)), {}

        def fn():
            out = jax.block_until_ready(run(*args))
            return float(out["z"].mean())
    elif method.startswith("eprop"):
        filt = method.startswith("eprop_filtered")
        carried = method == "eprop_filtered_carried"
        carry = zero_carry(B, N_IN, N, 1, jnp.float32, 0, carried)
        call = eprop_window
        args = (c, loss, net.dt, 0, filt, False, p, beta, p["w_out"], carry, xt, tt)
        kw = {"lookahead": not carried}

        def fn():
            g, _, act, _, _ = jax.block_until_ready(eprop_window(*args, **kw))
            return float(act.mean()) / N
    else:
        # the default of idn.learning.gradients: forward recomputed in ceil(sqrt(T))-step chunks
        remat = 0 if method == "bptt_plain" else int(np.ceil(np.sqrt(steps)))
        call, args, kw = bptt_window, (c, loss, net.dt, False, False, p, beta, xt, tt, remat), {}

        def fn():
            g, _, act, _ = jax.block_until_ready(bptt_window(*args))
            return float(act.mean()) / N

    def xla_mb():
        ma = call.lower(*args, **kw).compile().memory_analysis()
        return None if ma is None else (ma.temp_size_in_bytes + ma.output_size_in_bytes) / 2**20

    return fn, xla_mb


def worker_infodyn(method: str, steps: int, repeats: int) -> dict:
    fn, xla_mb = _infodyn_case(method, steps)
    activity = []
    sec, mem, first = _timeit(lambda: activity.append(fn()), repeats)
    return {
        "seconds": sec,
        "peak_mb": mem,
        "first_call_mb": first,
        "xla_mb": xla_mb(),
        "activity": activity[-1],
    }


def worker_interleaved(steps: int, repeats: int) -> dict:
    """Time ratios to the forward pass with the calls interleaved in one process (round r times
    every method once), so that a change of the shared machine's load hits all of them: the
    median over rounds of each method's time divided by the forward time of the same round."""
    fns = {m: _infodyn_case(m, steps)[0] for m in INTERLEAVED}
    for fn in fns.values():
        fn()  # compile
    per_round = []
    for _ in range(repeats):
        t = {}
        for m, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            t[m] = time.perf_counter() - t0
        per_round.append(t)
    return {
        m: {
            "ratio": float(np.median([r[m] / r["forward"] for r in per_round])),
            "seconds": float(np.median([r[m] for r in per_round])),
        }
        for m in INTERLEAVED
    }


INTERLEAVED = ("forward", "forward_loss", "eprop", "eprop_filtered", "eprop_filtered_carried")
METHODS = (*INTERLEAVED, "bptt", "bptt_plain", "snntorch")  # the rows, in table order


def worker_snntorch(steps: int, repeats: int) -> dict:
    import snntorch as snn
    import torch
    from snntorch import surrogate

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    alpha, kappa = float(np.exp(-1.0 / TAU_M)), float(np.exp(-1.0 / TAU_OUT))
    fc_in = torch.nn.Linear(N_IN, N, bias=False)
    lif = snn.RLeaky(
        beta=alpha,
        linear_features=N,
        threshold=V_TH,
        reset_mechanism="subtract",
        spike_grad=surrogate.fast_sigmoid(slope=25),
    )
    w = np.load(os.environ["BENCH_LEARNING_WEIGHTS"])  # the same weights as infodyn's rows
    w_out = torch.nn.Parameter(torch.from_numpy(w["w_out"]))
    with torch.no_grad():
        fc_in.weight.copy_(torch.from_numpy(w["w_in"].T.copy()))
        lif.recurrent.weight.copy_(torch.from_numpy(w["w_rec"].T.copy()))
        lif.recurrent.bias.zero_()
    x, tgt = _data(steps)
    xt = torch.from_numpy(np.swapaxes(x, 0, 1).copy())
    tt = torch.from_numpy(np.swapaxes(tgt, 0, 1).copy())
    params = [*fc_in.parameters(), *lif.parameters(), w_out]
    activity = []

    def fn():
        for q in params:
            q.grad = None
        spk, mem = lif.init_rleaky()
        y = torch.zeros(B, 1)
        loss, count = 0.0, 0.0
        for t in range(steps):
            # the input layer per step: indexing a precomputed (T, B, N) current inside the
            # autograd loop would make backward O(T^2) (REFERENCE §8)
            spk, mem = lif(fc_in(xt[t]), spk, mem)
            y = kappa * y + spk @ w_out
            loss = loss + 0.5 * ((y - tt[t]) ** 2).sum(-1).mean()
            count += float(spk.detach().mean())
        (loss / steps).backward()
        activity.append(count / steps)

    sec, mem, first = _timeit(fn, repeats)
    return {"seconds": sec, "peak_mb": mem, "first_call_mb": first, "activity": activity[-1]}


def _run_worker(python: str, method: str, steps: int, repeats: int, weights: str) -> dict:
    env = {
        **os.environ,
        "BENCH_LEARNING_WEIGHTS": weights,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    }
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--worker",
        method,
        "--steps",
        str(steps),
        "--repeats",
        str(repeats),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", default=None)
    ap.add_argument("--steps", type=int, nargs="+", default=[250, 1000, 4000])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--write", action="store_true", help="write the table into RESULTS.md")
    ap.add_argument(
        "--peer-max-steps",
        type=int,
        default=None,
        help="skip snnTorch above this T (one T = 4000 call took ~15 min under load)",
    )
    ap.add_argument(
        "--no-interleaved",
        action="store_true",
        help="skip the interleaved time-ratio worker (second table)",
    )
    ap.add_argument(
        "--from-log",
        nargs="+",
        default=None,
        help="build the table from the JSON lines earlier runs printed",
    )
    args = ap.parse_args()
    if args.from_log:
        rows = _read_logs(args.from_log)
        steps_list = sorted({s for _, s in rows})
        table = _table(rows, steps_list, args.methods)
        print(table)
        if args.write:
            _write(table)
        return
    if args.worker:
        steps = args.steps[0]
        if args.worker == "snntorch":
            res = worker_snntorch(steps, args.repeats)
        elif args.worker == "interleaved":
            res = worker_interleaved(steps, args.repeats)
        else:
            res = worker_infodyn(args.worker, steps, args.repeats)
        print(json.dumps(res))
        return

    bench_python = ROOT / ".venv-bench" / "bin" / "python"
    import tempfile

    import infodyn as idn

    net = idn.network.LIF(
        n_in=N_IN, n_rec=N, n_out=1, tau_m=TAU_M, tau_out=TAU_OUT, v_th=V_TH, in_scale=3.0
    )
    w = {k: v.astype(np.float32) for k, v in net.init(seed=0).items()}
    tmp = tempfile.mkdtemp(prefix="bench_learning_")
    weights = os.path.join(tmp, "weights.npz")
    np.savez(weights, **w)
    rows = {}
    for steps in args.steps:
        for m in args.methods:
            py = str(bench_python) if m == "snntorch" else sys.executable
            if m == "snntorch" and not bench_python.exists():
                rows[(m, steps)] = {"error": ".venv-bench is missing"}
                continue
            if m == "snntorch" and args.peer_max_steps and steps > args.peer_max_steps:
                rows[(m, steps)] = {"error": "skipped (--peer-max-steps)"}
                continue
            res = _run_worker(py, m, steps, args.repeats, weights)
            rows[(m, steps)] = res
            print(json.dumps({"method": m, "steps": steps, **res}), flush=True)
        if not args.no_interleaved:
            res = _run_worker(sys.executable, "interleaved", steps, max(args.repeats, 7), weights)
            rows[("interleaved", steps)] = res
            print(json.dumps({"method": "interleaved", "steps": steps, **res}), flush=True)
    table = _table(rows, args.steps, args.methods)
    print(table)
    if args.write:
        _write(table)


def _read_logs(paths) -> dict:
    """Rows from logs of earlier runs: JSON lines ``{"method", "steps", ...}`` (lines in the
    older ``METHOD T {dict}`` form are read too)."""
    import ast

    rows = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                d = json.loads(line)
                rows[(d.pop("method"), int(d.pop("steps")))] = d
            elif line and line.split()[0] in METHODS and "{" in line:
                m, steps, rest = line.split(" ", 2)
                rows[(m, int(steps))] = ast.literal_eval(rest)
    return rows


def _table(rows, steps_list, methods) -> str:
    lines = [
        f"B = {B}, N = {N}, {N_IN} inputs, one readout, MSE; one loss+gradient call, median of "
        "repeats after a warm-up call, wall seconds. First-call memory: peak RSS growth during "
        "the first call of a fresh process (JAX compilation included); steady memory: growth "
        "of the resident high-water mark during the timed calls, after `malloc_trim` gave the "
        "heap the warm-up freed back to the OS (what one compiled call needs); XLA buffers: "
        "working buffers + results of the compiled call from XLA's buffer assignment "
        "(`memory_analysis()`; inputs excluded; deterministic).",
        "",
        "| method | T | time (s) | x forward | x snnTorch | first-call memory (MB) |"
        " x snnTorch | steady memory (MB) | x snnTorch | XLA buffers (MB) | activity |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for steps in steps_list:
        fwd = rows.get(("forward", steps), {}).get("seconds")
        snn = rows.get(("snntorch", steps), {})
        for m in methods:
            r = rows.get((m, steps), {"error": "not run"})
            if "error" in r:
                lines.append(f"| {m} | {steps} | error: {r['error'][:60]} | | | | | | | | |")
                continue
            xf = f"{r['seconds'] / fwd:.2f}" if fwd else ""
            xs = f"{r['seconds'] / snn['seconds']:.2f}" if "seconds" in snn else ""
            fc = r.get("first_call_mb", float("nan"))
            xm = f"{fc / snn['first_call_mb']:.2f}" if snn.get("first_call_mb", 0) > 0 else ""
            xp = f"{r['peak_mb'] / snn['peak_mb']:.2f}" if snn.get("peak_mb", 0) > 0 else ""
            xla = f"{r['xla_mb']:.1f}" if r.get("xla_mb") is not None else ""
            act = "" if np.isnan(r["activity"]) else f"{r['activity']:.3f}"  # forward_loss: none
            lines.append(
                f"| {m} | {steps} | {r['seconds']:.3f} | {xf} | {xs} | {fc:.1f} | {xm} |"
                f" {r['peak_mb']:.1f} | {xp} | {xla} | {act} |"
            )
    inter = [
        (st, rows[("interleaved", st)])
        for st in steps_list
        if "error" not in rows.get(("interleaved", st), {"error": ""})
    ]
    if inter:
        lines += [
            "",
            "Time relative to the forward pass with the calls interleaved in one process (each "
            "round runs every method once; median over rounds of time / that round's forward "
            "time), so a change of the machine's load hits all of them alike:",
            "",
            "| T | " + " | ".join(INTERLEAVED[1:]) + " |",
            "| ---: |" + " ---: |" * (len(INTERLEAVED) - 1),
        ]
        for st, r in inter:
            lines.append(
                f"| {st} | " + " | ".join(f"{r[m]['ratio']:.2f}" for m in INTERLEAVED[1:]) + " |"
            )
    lines.append("")
    lines.append(
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, shared with other jobs (load varies)."
    )
    return "\n".join(lines)


def _write(table: str) -> None:
    text = RESULTS.read_text()
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    nxt = len(text) if nxt < 0 else nxt
    body = f"\n\nCommand: `{COMMAND}`\n\n{table}\n"
    RESULTS.write_text(text[:start] + body + text[nxt:])


if __name__ == "__main__":
    main()
