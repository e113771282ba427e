"""Run one ``infodyn`` command line in a process that signals itself at a known point.

Usage: ``python signal_driver.py [--in-import MODULE] SIGINT,SIGTERM ARGS...``. The command
runs through :func:`infodyn.cli.errors.run`, the path of the console script. The first time a
progress bar is updated after work began (a simulation chunk done, a training iteration), the
named signals are sent to the main thread, one after the other, as a user pressing Ctrl-C twice
would. With ``--in-import MODULE`` they are sent instead from inside ``MODULE``'s import (a
Ctrl-C during the command's start-up; :class:`_SignalInImport`), and the last line on stderr
says whether they were sent and ``MODULE`` was imported whole: ``driver: signalled True,
MODULE imported True``.

Signals sent from another process go to whichever thread the kernel picks, and on a loaded
machine a worker thread can run its handler late. Two signals sent back to back can then reach
Python apart, the second after the command has already stopped on the first (this failed a
real-process test under load). ``signal.pthread_kill`` to the running main thread delivers each
signal before the call returns, so the order and the moment are always the same. Not a test
module.
"""

import signal
import sys
import threading


def _send(names: list[str]) -> None:
    for name in names:
        signal.pthread_kill(threading.main_thread().ident, signal.Signals[name])


class _SignalInImport:
    """A ``sys.meta_path`` finder and profile function that send the signals from the first
    Python function called while ``module`` is imported (outside importlib itself): for a
    compiled module, from inside its initialisation, as a Ctrl-C the handler runs there."""

    def __init__(self, module: str, names: list[str]) -> None:
        self.module, self.names, self.sent = module, names, False

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.module:
            sys.meta_path.remove(self)
            sys.setprofile(self.profile)
        return None  # the usual finders import it

    def profile(self, frame, event, arg) -> None:
        if event == "call" and not frame.f_code.co_filename.startswith("<frozen"):
            sys.setprofile(None)
            self.sent = True
            _send(self.names)


def _signal_in_import(module: str, names: list[str], argv: list[str]) -> None:
    from infodyn.cli import app  # installs the command line's handler first, as the script
    from infodyn.cli.errors import run

    finder = _SignalInImport(module, names)
    sys.meta_path.insert(0, finder)
    try:
        rc = run(app, argv)
    finally:
        whole = module in sys.modules
        print(f"driver: signalled {finder.sent}, {module} imported {whole}", file=sys.stderr)
    sys.exit(rc)


def main() -> None:
    if sys.argv[1] == "--in-import":
        return _signal_in_import(sys.argv[2], sys.argv[3].split(","), sys.argv[4:])
    names, argv = sys.argv[1].split(","), sys.argv[2:]
    from infodyn.cli import app
    from infodyn.cli.errors import run
    from infodyn.progress import ProgressBar

    update = ProgressBar.update
    sent = []

    def update_then_signal(self, *args, **kwargs) -> None:
        update(self, *args, **kwargs)
        if not sent and (kwargs.get("done") or kwargs.get("advance")):
            sent.append(True)
            _send(names)

    ProgressBar.update = update_then_signal
    sys.exit(run(app, argv))


if __name__ == "__main__":
    main()
