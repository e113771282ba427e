"""One progress convention for long loops (training, simulation, sweeps): a transient rich bar.

Like brian2's ``Network.run(report=...)``, a long-running function takes ``progress`` (True for
this bar, False for none) and reports through one object::

    with ProgressBar("training", total=500, done=0, enabled=progress) as bar:
        for i in ...:
            bar.update(done=i + 1, status=f"loss {loss:.4g}")

A disabled bar does nothing.
"""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


class ProgressBar:
    """A rich progress bar ``LABEL [bar] done/total UNIT status time-left`` (removed when done).

    ``total=None`` is an unknown total (set it later through :meth:`update`).
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        done: int = 0,
        enabled: bool = True,
        unit: str = "",
    ) -> None:
        self.label, self.total, self.done = label, total, done
        self.enabled, self.unit = enabled, unit
        self._bar: Any = None

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            unit = f" {self.unit}" if self.unit else ""
            self._bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}" + unit),
                TextColumn("{task.fields[status]}"),
                TimeRemainingColumn(),
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(
                self.label, total=self.total, completed=self.done, status=""
            )
        return self

    def update(
        self, done: int | None = None, advance: int = 0, total: int | None = None, status: str = ""
    ) -> None:
        """Set ``done`` (or add ``advance``), optionally a new ``total`` and a status text."""
        if self._bar is None:
            return
        kwargs: dict[str, Any] = {"status": status}
        if done is not None:
            kwargs["completed"] = done
        if advance:
            kwargs["advance"] = advance
        if total is not None:
            kwargs["total"] = total
        self._bar.update(self._task, **kwargs)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None
