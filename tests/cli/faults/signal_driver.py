"""Run one ``infodyn`` command line in a process that signals itself at a known point.

Usage: ``python signal_driver.py SIGINT,SIGTERM ARGS...``. The command runs through
:func:`infodyn.cli.errors.run`, the path of the console script. The first time a progress bar
is updated after work began (a simulation chunk done, a training iteration), the named signals
are sent to the main thread, one after the other, as a user pressing Ctrl-C twice would.

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


def main() -> None:
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
            for name in names:
                signal.pthread_kill(threading.main_thread().ident, signal.Signals[name])

    ProgressBar.update = update_then_signal
    sys.exit(run(app, argv))


if __name__ == "__main__":
    main()
