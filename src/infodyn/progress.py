"""One progress convention for long runs (training, simulation, sweeps, the channel experiment,
the pipeline's stages): a rich display on stderr.

Like brian2's ``Network.run(report=...)``, a long-running function takes ``progress`` (True for
this display, False for none) and reports through one object, a counted bar::

    with ProgressBar("training", total=500, done=0, enabled=progress) as bar:
        for i in ...:
            bar.update(done=i + 1, status=f"loss {loss:.4g}")
            bar.log(f"checkpoint at {i + 1}")  # a line that stays, above the bar

or, for a run made of named stages, a :class:`StageLog` (``log(stage, fraction)``; one line per
new stage).

Everything goes through one rich console on stderr (:func:`console`), so results printed on
stdout stay clean. The convention:

- **quiet** (``enabled=False``): nothing is written;
- **terminal**: a live bar (removed when done) with the lines of :meth:`ProgressBar.log` above it;
- **not a terminal** (a pipe, a log file, a batch job): no bar, no control codes; the lines
  of :meth:`ProgressBar.log` (and of :class:`StageLog`), each with the elapsed seconds, and every
  :data:`OFF_TERMINAL_EVERY_S` seconds a line of the counts (``simulating: 40,000/100,000 steps
  (40 %)``), so that a batch job's log shows it is alive (a 158 s simulation printed nothing
  until it ended).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


def warning_line(message: Any, category: Any, *_: Any) -> None:
    """``warnings.showwarning`` of the command line and of sweep points on Dask workers: a
    warning as the one line ``warning: ...`` on stderr (Python's format adds the file, line
    and source of the code that warned)."""
    print(f"warning: {message}", file=sys.stderr)


_console: list[Any] = []

#: seconds between two lines of the counts when stderr is not a terminal
OFF_TERMINAL_EVERY_S = 60.0


def console() -> Any:
    """The one rich ``Console`` all progress goes through (stderr; created on first use).

    It looks up ``sys.stderr`` when it writes, so a redirected stderr is followed."""
    if not _console:
        _console.append(Console(stderr=True, log_path=False))
    return _console[0]


class ProgressBar:
    """A rich progress bar ``LABEL [bar] done/total UNIT status time-left`` (removed when done).

    ``total=None`` is an unknown total (set it later through :meth:`update`); ``unit="%"`` shows
    the fraction of ``total`` done in per cent. On a stderr that is
    not a terminal, or a dumb one (``TERM=dumb``), no bar is drawn (the counts are still kept)
    and only :meth:`log` lines and the timed count lines appear.
    """

    def __init__(
        self,
        label: str,
        total: float | None,
        done: float = 0,
        enabled: bool = True,
        unit: str = "",
    ) -> None:
        self.label, self.total, self.done = label, total, done
        self.enabled, self.unit = enabled, unit
        self._bar: Any = None
        self._t0 = self._said = time.perf_counter()

    def __enter__(self) -> ProgressBar:
        self._t0 = self._said = time.perf_counter()
        if self.enabled:
            out = console()
            if self.unit == "%":
                counts = "{task.percentage:>3.0f} %"
            else:
                counts = "{task.completed}/{task.total}" + (f" {self.unit}" if self.unit else "")
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn(counts),
                TextColumn("{task.fields[status]}"),
                TimeRemainingColumn(),
                console=out,
                transient=True,
                # TERM=dumb: rich draws no bar there, and the timed count lines were lost too
                disable=not out.is_terminal or out.is_dumb_terminal,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(
                self.label, total=self.total, completed=self.done, status=""
            )
        return self

    def update(
        self,
        done: float | None = None,
        advance: float = 0,
        total: float | None = None,
        status: str = "",
        label: str | None = None,
    ) -> None:
        """Set ``done`` (or add ``advance``), optionally a new ``total``, a status text and a new
        ``label``."""
        if self._bar is None:
            return
        kwargs: dict[str, Any] = {"status": status}
        if done is not None:
            kwargs["completed"] = done
        if advance:
            kwargs["advance"] = advance
        if total is not None:
            kwargs["total"] = total
        if label is not None:
            kwargs["description"] = label
        self._bar.update(self._task, **kwargs)
        if self._bar.disable and time.perf_counter() - self._said >= OFF_TERMINAL_EVERY_S:
            self._said = time.perf_counter()
            self.log(self._counts(status))

    def _counts(self, status: str) -> str:
        """``LABEL: done/total UNIT (P %)``, and the status: the line off a terminal."""
        task = self._bar.tasks[0]
        text = f"{task.description}: "
        if self.unit == "%":
            text += f"{task.percentage:.0f} %"
        else:
            text += f"{task.completed:,.0f}"
            if task.total:
                text += f"/{task.total:,.0f}" + (f" {self.unit}" if self.unit else "")
                text += f" ({task.percentage:.0f} %)"
            elif self.unit:
                text += f" {self.unit}"
        return text + (f", {status}" if status else "")

    def log(self, text: str) -> None:
        """Write ``text`` as one line that stays (above the bar on a terminal), after the clock
        time and followed by the seconds since the bar started; nothing when it is disabled."""
        if self.enabled:
            seconds = time.perf_counter() - self._t0
            console().print(
                f"{time.strftime('%H:%M:%S')} {text}  [{seconds:.0f} s]",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None


class StageLog:
    """Progress of a run made of named stages: ``log(stage, fraction)`` shows ``stage`` on a bar
    at ``fraction`` (0 to 1) of the whole run and writes a line when a new stage begins.

    A stage is named by its text before the first ``":"``, so ``"training: 3/100, 4.2 Hz"`` and
    ``"training: 4/100, 4.0 Hz"`` update the bar but write one line. ``enabled=False``: nothing.
    Used as a context manager; the callable fits ``run_pipeline(progress=...)``.
    """

    def __init__(self, label: str = "starting", enabled: bool = True) -> None:
        self._bar = ProgressBar(label, total=100, enabled=enabled, unit="%")
        self._stage: str | None = None

    def __enter__(self) -> StageLog:
        self._bar.__enter__()
        return self

    def __call__(self, stage: str, fraction: float) -> None:
        name = stage.split(":")[0]
        if name != self._stage:
            self._bar.log(name)
            self._stage = name
        self._bar.update(done=round(100 * min(max(fraction, 0.0), 1.0)), label=stage)

    def log(self, text: str) -> None:
        """A line that stays (:meth:`ProgressBar.log`)."""
        self._bar.log(text)

    def __exit__(self, *exc: Any) -> None:
        self._bar.__exit__(*exc)
