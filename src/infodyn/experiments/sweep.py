"""Parameter sweeps on Dask distributed: grid expansion, retries, resume, one results table.

A sweep runs a registered command (:data:`infodyn.experiments.config.COMMANDS`, e.g.
``simulate``) at every point of a grid over dotted config keys (``network.rec_scale=0.5,1.0``)
times ``seeds`` seeds. Each point is validated up front (a bad key fails before any work starts),
gets its own run directory ``OUT/points/NAME/`` and, when its run returns, a done marker
``DONE.json`` written atomically (temporary name, then rename) with its results. A rerun of the
same sweep skips every point whose marker holds the same config hash and whose input files
(:func:`~infodyn.experiments.grid.input_files`: the files its config names, by path, size and
modification time) are unchanged, so an interrupted sweep loses no finished result; a point
whose run was cut off (no marker) or whose input file was replaced is run again.

Execution is a Dask ``LocalCluster`` (``n_workers`` processes, one thread each) or an existing
scheduler (``scheduler="tcp://host:8786"``, e.g. one started by dask-jobqueue on SLURM; see
``docs/scale.md``). A point that raises is retried ``retries`` times by Dask, except on bad input
(an :class:`~infodyn.errors.InputError` fails the same way every time: it fails at once, with
its message); a worker that dies
(killed, out of memory) has its points rescheduled on the remaining workers. Points still failing
are reported in ``results.json`` and ``failures.json`` and marked ``failed`` in the table.
One sweep at a time runs in ``OUT``: it holds the lock of
:mod:`infodyn.experiments.sweep_lock`.

``batch_size > 1`` groups points that share one compiled network (same shapes, time constants and
length; they may differ in weights, seeds and input) and runs each group as one ``jax.vmap``-ed
simulation inside a worker (:mod:`infodyn.experiments.simulate_batch`), writing the same
per-point run directories. The grid logic is in :mod:`infodyn.experiments.grid`, what a worker
does with one point (and its done marker) in :mod:`infodyn.experiments.sweep_point`, the Dask
client and its local cluster in :mod:`infodyn.experiments.sweep_cluster`.

Outputs in ``OUT``: ``config.json`` (the sweep definition and package version), ``results.csv``
(one row per point: grid values, seed, status, attempts and every scalar result),
``results.parquet`` when pyarrow is installed, ``results.json`` (counts, failures, wall time) and
``figures/summary.png`` (the summary metric against the first grid key, mean +- SD over seeds);
:mod:`infodyn.experiments.sweep_outputs` writes the table and the figure.
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infodyn.atomic import remove_temporaries, write_json
from infodyn.data.notes import muted_warnings
from infodyn.errors import InputError, as_path, is_finite_number, whole_number
from infodyn.experiments.config import CommandSpec, get_command, validate
from infodyn.experiments.grid import (  # noqa: F401 - the grid's names, re-exported
    SweepPoint,
    changed_inputs,
    config_hash,
    expand_grid,
    get_dotted,
    input_files,
    parse_grid,
    parse_value,
    plain_grid,
    set_dotted,
)
from infodyn.experiments.rundir import RunDir
from infodyn.experiments.simulate_batch import batch_signature, simulate_batch  # noqa: F401
from infodyn.experiments.sweep_cluster import dask_client
from infodyn.experiments.sweep_lock import is_held, sweep_lock
from infodyn.experiments.sweep_outputs import flatten, table_rows, write_outputs  # noqa: F401
from infodyn.experiments.sweep_point import (  # noqa: F401 - the point's names, re-exported
    ATTEMPTS_LOG,
    DONE_MARKER,
    INPUT_ERROR,
    adopt_finished_folders,
    count_attempts,
    earlier_markers,
    earlier_notes,
    finished_marker,
    read_marker,
    refuse_files_in_the_way,
    run_point,
    run_point_batch,
)
from infodyn.progress import ProgressBar


def make_tasks(
    spec: CommandSpec, points: list[SweepPoint], batch_size: int
) -> list[list[SweepPoint]]:
    """Group points into tasks: single points, or batches of compatible points."""
    if batch_size <= 1 or spec.batch is None:
        return [[p] for p in points]
    model = spec.config_model()
    groups: dict[Any, list[SweepPoint]] = {}
    tasks: list[list[SweepPoint]] = []
    for p in points:
        cfg = validate(model, p.config)  # a command's own config says what batches
        if hasattr(cfg, "batch_signature"):
            sig = cfg.batch_signature()
        else:  # simulate's rules are simulate's (another config ran alone, or failed in them)
            sig = batch_signature(cfg) if spec.name == "simulate" else None
        if sig is None:
            tasks.append([p])
        else:
            groups.setdefault(sig, []).append(p)
    for members in groups.values():
        tasks.extend(members[i : i + batch_size] for i in range(0, len(members), batch_size))
    return tasks


@dataclass
class SweepResult:
    """What a sweep did: the table rows, failures and the paths of its outputs."""

    out: Path
    rows: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    n_points: int
    n_ran: int
    n_skipped: int
    wall_seconds: float
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        return len(self.failures)


def run_sweep(
    command: str,
    base: dict[str, Any],
    grid: dict[str, list[Any]],
    out: str | os.PathLike,
    seeds: int | None = None,
    scheduler: str | None = None,
    n_workers: int = 2,
    retries: int = 2,
    batch_size: int = 1,
    connect_timeout: float = 10.0,
    metric: str | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
    source: str = "base config",
    config_file: str | os.PathLike | None = None,
) -> SweepResult:
    """Run ``command`` at every grid point on Dask; see the module docstring.

    Parameters
    ----------
    command : a registered command name (``"simulate"``; ``infodyn config`` lists them).
    base : the base config (a dict as read from TOML); grid values override dotted keys.
    grid : dotted key -> list of values (:func:`parse_grid`).
    seeds : run each grid point with ``seeds`` seeds (offsets of the command's seed keys).
    scheduler : address of an existing Dask scheduler; None starts a local cluster.
    retries : how often Dask reruns a point that raised before it counts as failed.
    batch_size : > 1 batches compatible small networks with ``vmap`` inside a worker.
    progress : True for the bar of :mod:`infodyn.progress` (tasks finished), or a callable
        ``progress(finished, total)`` called after each finished task.
    source : how errors in ``base`` name it (the CLI passes the config file's path).
    config_file : the file ``base`` was read from: a point's relative path that is missing here
        but exists beside it is refused before any point runs
        (:func:`~infodyn.experiments.config_paths.check_config_paths`, as the commands do).
    """
    from infodyn.experiments import interrupt

    spec = get_command(command)
    # "2" or None were raw TypeErrors of the comparisons
    retries = whole_number(retries, "retries")
    batch_size = whole_number(batch_size, "batch_size", minimum=1)
    # absolute: a worker of --scheduler resolved a relative one in its own folder (the points
    # were written there, outside the lock, and a resume never found them)
    out = Path(os.path.abspath(as_path(out, "out")))
    if scheduler is not None and not str(scheduler).strip():
        raise InputError(  # an unset $SCHED ran the whole sweep on the login node
            "--scheduler is empty: give the scheduler's address (tcp://HOST:8786), or leave "
            "--scheduler out for a local cluster"
        )
    if not (is_finite_number(connect_timeout) and connect_timeout > 0):  # 0 never connected,
        raise InputError(  # and was reported as an unreachable address
            f"connect_timeout must be a number of seconds > 0, got {connect_timeout!r}"
        )
    if metric is not None and not isinstance(metric, str):  # 3: a TypeError after every point
        raise InputError(f"metric must be the name of a result (text), got {metric!r}")
    grid = plain_grid(grid)  # NumPy values as Python's, for the sweep's config.json too
    # a local cluster reads this machine's folders (a remote one may hold inputs this one lacks)
    points = expand_grid(
        spec, base, grid, seeds, source=source, config_file=config_file, inputs_here=not scheduler
    )
    _refuse_another_command(out, command)
    sweep_dir = RunDir(
        out, "sweep", writes=("results.csv", "results.parquet", "failures.json"), mark=True
    )
    definition = {
        "command": command,
        "base": base,
        "grid": grid,
        "seeds": seeds,
        "retries": retries,
        "batch_size": batch_size,
    }
    # an unreachable --scheduler left an empty --out; two sweeps in one folder removed each
    # other's temporary files
    with sweep_dir.removed_if_failed(), sweep_lock(out), sweep_dir.locked():
        _remove_temporaries(out)  # left by workers killed mid-write in an earlier run
        point_dir = {p.key: out / "points" / p.name for p in points}
        refuse_files_in_the_way(out / "points", list(point_dir.values()))
        adopted = adopt_finished_folders(out / "points", points)
        markers, replaced, lost = earlier_markers(points, point_dir)
        notes = earlier_notes(adopted, replaced, lost)
        notes.append(_outside_note(out / "points", point_dir))
        skipped = set(markers)
        pending = [p for p in points if p.key not in markers]
        failures: list[dict[str, Any]] = []
        cancelled: list[SweepPoint] = []
        t0 = time.perf_counter()
        if pending:
            tasks = make_tasks(spec, pending, batch_size)
            notes.append(_batch_note(spec, batch_size, len(pending), tasks))
            run = _Submitted(spec, point_dir, markers, failures)
            with (
                dask_client(scheduler, n_workers, connect_timeout) as client,
                ProgressBar("sweep", len(tasks), enabled=progress is True, unit="tasks") as bar,
            ):
                run.gather(client, tasks, retries, bar, progress if callable(progress) else None)
            cancelled = run.cancelled
            if scheduler is None:
                _remove_temporaries(out)  # the local workers are gone: nothing writes there now
            failed = {f["point"] for f in failures}
            for p in pending:  # points a worker finished after an interrupt stopped the loop:
                # their new markers (an outdated one, of a replaced input, is no finished point;
                # nor is the old marker of a point that failed now)
                if p.key in markers or p.name in failed:
                    continue
                marker = finished_marker(point_dir[p.key], p.key, input_files(p.config))
                if marker is not None:
                    markers[p.key] = marker
        wall = time.perf_counter() - t0
        rows = table_rows(points, markers, {f["point"] for f in failures}, point_dir)
        files, why_not = write_outputs(sweep_dir, rows, grid, metric or spec.summary_metric)
        n_left = sum(r["status"] == "interrupted" for r in rows)
        summary = {
            "command": command,
            "n_points": len(points),
            "n_ran": len(markers) - len(skipped),
            "n_skipped": len(skipped),
            "n_failed": len(failures),
            "failures": failures,
            "wall_seconds": wall,
            "files": files,
            "notes": [n for n in [*notes, why_not] if n is not None],
            "n_interrupted": n_left,
        }
        write_json(out / "failures.json", failures)
        # the definition with the results: a sweep that cannot start leaves the last one's pair
        sweep_dir.finish(definition, "sweep", summary)
        if n_left:
            still = [p for p in cancelled if p.key not in markers] if scheduler else []
            interrupt.check(
                f"{len(points) - n_left} of {len(points)} points done, {n_left} left "
                f"(marked 'interrupted' in {out}/results.csv)"
                + (
                    f"; {len(still)} of them had started on the cluster, whose workers finish "
                    "a started point: rerun once they are done (their results count then)"
                    if still
                    else ""
                )
            )
        return SweepResult(
            out=out,
            rows=rows,
            failures=failures,
            n_points=len(points),
            n_ran=summary["n_ran"],
            n_skipped=len(skipped),
            wall_seconds=wall,
            files=files,
            notes=summary["notes"],
        )


def _remove_temporaries(out: Path) -> None:
    """The temporary files of this sweep (its own and its points'), not those of a run in
    another subfolder of ``out``: a ``simulate --out OUT/other`` lost its staged spike file."""
    remove_temporaries(out, below=False)
    points = out / "points"
    remove_temporaries(points, below=False)
    for folder in (f for f in points.glob("*") if f.is_dir()):
        # a point whose run holds its lock may still be writing: a remote worker goes on with
        # a point the interrupted sweep cancelled, and lost its files to the rerun's clean-up
        if not any(is_held(lock) for lock in folder.glob("*.lock")):  # (a stale one: cleaned)
            remove_temporaries(folder)
    remove_temporaries(out / "figures", below=False)


def _swept_command(folder: Path) -> str | None:
    """The command of the sweep whose output ``folder`` is (its config.json says), else None."""
    try:
        stored = json.loads((folder / "config.json").read_text())
        return stored["config"]["command"] if stored.get("command") == "sweep" else None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no sweep there (RunDir refuses another run's folder)


def _refuse_another_command(out: Path, command: str) -> None:
    """A sweep of another command in ``out`` (its config.json says what it ran): its table,
    figure and config were replaced and the two sweeps' points mixed in ``points/``. And a
    sweep into another sweep's ``points/``, which that one's clean-up does not spare."""
    for points in (out, out.parent):
        if points.name == "points" and _swept_command(points.parent) is not None:
            raise InputError(
                f"{out} lies in the points folder of the sweep in {points.parent}, whose reruns "
                "clean that folder; choose an --out outside it"
            )
    other = _swept_command(out)
    if other is not None and other != command:
        raise InputError(
            f"{out} holds a sweep of {other}: a sweep of {command} there would replace its "
            f"table and mix the two sweeps' points; choose another --out (e.g. {out / command})"
        )


def _outside_note(points_dir: Path, point_dir: dict[str, Path]) -> str | None:
    """Finished points of an earlier, larger grid: kept in ``points/``, not in the table (a
    shrunk grid's table lost them without a word, which read as results lost)."""
    if not points_dir.is_dir():
        return None
    ours = {folder.name for folder in point_dir.values()}

    def finished_elsewhere(folder: Path) -> bool:  # not a finished twin of one of ours
        with muted_warnings():  # (a damaged marker here runs nothing again)
            key = (read_marker(folder, None) or {}).get("key")
        return isinstance(key, str) and key not in point_dir

    outside = sorted(
        folder.name
        for folder in points_dir.iterdir()
        if folder.name not in ours and finished_elsewhere(folder)
    )
    if not outside:
        return None
    shown = ", ".join(outside[:3]) + (", ..." if len(outside) > 3 else "")
    return (
        f"{len(outside)} finished point(s) outside this grid stay in points/ ({shown}) and are "
        "left out of the table: they have other grid values or were run from another base "
        "config; rerun with those values and that config to list them again"
    )


def _batch_note(spec: CommandSpec, batch_size: int, n_pending: int, tasks: list) -> str | None:
    """Why ``batch_size > 1`` batched nothing, when it did not (it did so without a word)."""
    if batch_size == 1 or n_pending < 2 or any(len(t) > 1 for t in tasks):
        return None
    if not spec.batch:  # (the simulate rules were given as the reason)
        return f"batch_size={batch_size}: {spec.name} has no batched runner; each point ran alone"
    return (
        f"batch_size={batch_size}: no two points could share a batch (each ran alone): "
        "batches need the JAX engine (engine='jax', or 'auto' below 2000 steps), dense "
        "weights drawn from [network] (no [simulation] params file), dense inputs, and equal "
        "shapes, neuron constants, dt, n_steps and precision"
    )


@dataclass
class _Submitted:
    """The points of a sweep on Dask: their folders, and the markers and failures of those
    that return (filled in by :meth:`gather`)."""

    spec: CommandSpec
    point_dir: dict[str, Path]
    markers: dict[str, dict[str, Any]]
    failures: list[dict[str, Any]]
    #: the points still running when a signal stopped the sweep (cancelled; a remote worker
    #: finishes them all the same)
    cancelled: list[SweepPoint] = field(default_factory=list)

    def failure(self, p: SweepPoint, error: str) -> dict[str, Any]:
        return {
            "index": p.index,
            "point": p.name,
            "values": p.values,
            "seed": p.seed,
            "error": error,
            "attempts": count_attempts(self.point_dir[p.key]),
        }

    def submit(self, client: Any, task: list[SweepPoint], retries: int) -> Any:
        """One task (a point, or a batch of points) as a Dask future."""
        if len(task) == 1:
            p = task[0]
            return client.submit(
                run_point, self.spec, p.config, str(self.point_dir[p.key]), p.key,
                key=f"infodyn-point-{p.key[:16]}-{time.time_ns()}", retries=retries, pure=False,
            )  # fmt: skip
        items = [(p.config, str(self.point_dir[p.key]), p.key) for p in task]
        return client.submit(
            run_point_batch, self.spec, items,
            key=f"infodyn-batch-{task[0].key[:16]}-{time.time_ns()}", retries=retries, pure=False,
        )  # fmt: skip

    def gather(self, client: Any, tasks: list, retries: int, bar: Any, report: Any) -> None:
        """Submit the tasks as the cluster's threads free up and take their results as they
        finish; after SIGINT/SIGTERM start nothing more, and at the first task to finish keep
        what finished and cancel the rest. Only as many tasks as the workers have threads are
        submitted at a time (re-counted every :data:`POLL_S` seconds, as workers join): with
        every task queued at once, a worker took the next point the moment its point finished,
        after the signal."""
        from dask.distributed import as_completed

        from infodyn.experiments import interrupt

        queue, running, done = collections.deque(tasks), {}, 0
        finished = as_completed()
        while running or (queue and not interrupt.requested()):
            threads = max(1, sum(client.nthreads().values())) if queue else 0
            while queue and len(running) < threads and not interrupt.requested():
                task = queue.popleft()
                fut = self.submit(client, task, retries)
                running[fut] = task
                finished.add(fut)
            if not finished.has_ready():
                if interrupt.requested() and not client.nthreads():  # the workers died of
                    client.cancel(list(running))  # the signal (a group's SIGTERM): none is
                    return  # left to finish a point
                time.sleep(POLL_S)
                continue
            if interrupt.requested():  # the first task to finish after the signal: stop
                client.cancel(list(running))  # (a remote worker finishes a started point)
                self.cancelled = [p for task in running.values() for p in task]
                return
            for fut in finished.next_batch(block=False):
                self.take(running.pop(fut), fut)
                done += 1
                bar.update(done=done)
                if report is not None:
                    report(done, len(tasks))

    def take(self, task: list[SweepPoint], fut: Any) -> None:
        """A finished task's markers, or its failures (bad input, or failed after retries)."""
        try:
            result = fut.result()
        except Exception as exc:  # a point that failed after its retries
            for p in task:  # (a batch's points that finished before it failed keep their result)
                marker = finished_marker(self.point_dir[p.key], p.key, input_files(p.config))
                if marker is not None:
                    self.markers[p.key] = marker
                else:
                    self.failures.append(self.failure(p, _failure_text(exc)))
            return
        for p, marker in zip(task, [result] if len(task) == 1 else result, strict=True):
            if INPUT_ERROR in marker:
                self.failures.append(self.failure(p, f"InputError: {marker[INPUT_ERROR]}"))
            else:
                self.markers[p.key] = marker


#: seconds between looks at a running sweep's tasks (and at a signal)
POLL_S = 0.05


def _failure_text(exc: BaseException) -> str:
    """A failed task's line: ``Type: message``, and for Dask's ``KilledWorker`` (the worker
    processes running the point died, most often out of memory) what it means: its message
    named neither memory nor that Dask's own limit on worker deaths (more than
    ``distributed.scheduler.allowed-failures``, 3 by default), not ``--retries``, ended it."""
    text = f"{type(exc).__name__}: {exc}"
    if type(exc).__name__ == "KilledWorker":
        limit = getattr(exc, "allowed_failures", None)
        deaths = f"{limit + 1} deaths" if isinstance(limit, int) else "its limit of deaths"
        text = (
            "the worker processes running this point died (most often out of memory: see the "
            "workers' logs; give them more memory or make the point smaller); Dask gave it up "
            f"after {deaths} (distributed.scheduler.allowed-failures + 1; 3 + 1 by default), "
            f"whatever --retries says [{text}]"
        )
    return text
