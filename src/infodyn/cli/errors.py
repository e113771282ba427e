"""The one error path of the ``infodyn`` command.

Every failure a user can cause or fix (bad input, the file system, memory, the platform) ends as
one line on stderr, ``infodyn: error: <file or key>: <what is wrong>; <what to do>``, and exit
code 2. An interrupt (Ctrl-C, SIGTERM) ends with the line the interrupted command left (which
checkpoint it wrote and how to resume) and exit code 130. Anything else is a bug: its traceback
is printed, followed by one line saying so and where to report it, and the exit code is 1.

:func:`run` wraps the typer application; :func:`explain` is the classification (an exception
to its one line, or ``None`` for a bug), kept separate so tests can check it directly.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from typing import Any

from infodyn.errors import InputError, os_error_line

#: where bugs are reported (printed under the traceback of an unexpected exception)
REPORT_BUGS = "the infodyn issue tracker (see README.md, 'Reporting problems')"

#: exit codes: 2 for an expected failure (as click's usage errors), 130 for an interrupt
EXIT_ERROR, EXIT_INTERRUPT, EXIT_BUG = 2, 130, 1


def explain(exc: BaseException) -> str | None:
    """The one line an expected failure prints, or ``None`` when ``exc`` is a bug."""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, MemoryError):
        what = f" ({exc})" if str(exc) else ""
        return (
            f"out of memory{what}; use smaller sizes (units, steps, patches, batch) or a "
            "machine with more memory"
        )
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_error_line(exc)
    return None


#: options whose library parameter is not the option's name with dashes as underscores
OPTION_PARAMETERS = {
    "--samples": "n_samples",
    "--shuffles": "n_shuffles",
    "--memories": "n_memories",
}


def name_options(line: str, argv: list[str]) -> str:
    """``line`` with each Python parameter name the user set by its option (``n_boot`` where
    ``--n-boot`` is on the command line) written as that option, so that a message from the
    library speaks the command line's language ("--n-boot must be ...")."""
    for arg in argv:
        if not arg.startswith("--") or len(arg) < 4:
            continue
        option = arg.split("=", 1)[0]
        param = OPTION_PARAMETERS.get(option, option[2:].replace("-", "_"))
        if "_" in param:
            line = re.sub(rf"(?<![\w-]){re.escape(param)}(?![\w-])", option, line)
        else:  # one-word names (--seed) read the same in prose, but not as a config key:
            # "energy: [window] ..." stood beside "energy: [--test-fraction] ..."
            line = line.replace(f"[{param}]", f"[{option}]")
    return line


def platform_preflight() -> None:
    """Refuse, in one line, a ``JAX_PLATFORMS`` that JAX cannot start on this machine.

    JAX fails late and obscurely there (an ``AssertionError`` deep in its dispatch), so when the
    variable is set the backend is started once here, before any work.
    """
    wanted = os.environ.get("JAX_PLATFORMS", "").strip()
    if not wanted or wanted == "cpu":
        return
    import jax

    try:
        jax.devices()
    except Exception as exc:  # noqa: BLE001 - any failure to start the backend is the same fault
        detail = f" ({type(exc).__name__}: {exc})" if str(exc) else ""
        raise InputError(
            f"JAX_PLATFORMS={wanted!r}: JAX cannot start that backend on this machine{detail}; "
            "unset JAX_PLATFORMS (or set it to 'cpu'), or install the matching jax plugin "
            "(e.g. jax[cuda12]) on a machine with that accelerator"
        ) from None


def refuse_empty_out(argv: list[str]) -> None:
    """Refuse ``--out ''`` (an unset shell variable): the path would be ``.``, and the run would
    write over the working directory's ``config.json`` and ``results.json``; and an empty
    positional argument, which typer also reads as ``.`` (``infodyn criticality ""`` said the
    working folder was not a phy folder)."""
    for i, arg in enumerate(argv):
        empty = arg == "--out" and i + 1 < len(argv) and not argv[i + 1].strip()
        if empty or (arg.startswith("--out=") and not arg[6:].strip()):
            raise InputError("--out is empty (an unset shell variable?): give the run directory")
        after_option = i > 0 and argv[i - 1].startswith("-") and "=" not in argv[i - 1]
        if not arg.strip() and not after_option:  # a path "" is "." (the working folder)
            raise InputError(
                f"argument {i + 1} is empty (an unset shell variable?): give the file or folder"
            )


def _say(line: str) -> None:
    print(f"infodyn: error: {line}", file=sys.stderr)


def _is(exc: BaseException, name: str) -> bool:
    """Whether ``exc`` is click's exception ``name`` (click's, the copy vendored by typer, or
    typer's own, such as its ``Abort``)."""
    return any(
        k.__name__ == name and ("click" in k.__module__ or "typer" in k.__module__)
        for k in type(exc).__mro__
    )


def _command_path(app: Any, args: list[str]) -> str:
    """``infodyn config show``: the (sub)commands that lead ``args``, as click names them."""
    import typer

    words, group = ["infodyn"], typer.main.get_command(app)
    for word in args:
        sub = getattr(group, "commands", {}).get(word)
        if sub is None:
            break
        words.append(word)
        group = sub
    return " ".join(words)


def _usage_error(exc: Any, app: Any, args: list[str]) -> int:
    """A command-line usage error as one line naming the command and its ``--help``."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":
        exc.show()  # the help text itself (``infodyn`` alone)
        return int(exc.exit_code)
    # an option given without its value has no context: the command is read from the words
    where = ctx.command_path if ctx is not None else _command_path(app, args)
    _say(f"{where}: {exc.format_message().rstrip('.')}; see '{where} --help'")
    return int(exc.exit_code)


def _raised_by_interrupt(exc: BaseException) -> bool:
    """Whether a ``KeyboardInterrupt`` caused ``exc``: Ctrl-C during the import of a compiled
    module reaches the caller as ``ImportError: initialization failed`` raised from it
    (pybind11 modules, such as SciPy's), which is no bug."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


#: the commands that keep their progress: checkpoints or a step journal and ``--resume``, or
#: (``sweep``) finished points that a rerun skips
KEEP_PROGRESS = frozenset({"simulate", "train", "sweep", "channel", "images", "demo"})


#: set when a second signal stopped the command at once (:func:`stopped_at_once`)
_STOPPED = {"at_once": False}


def stopped_at_once() -> bool:
    """Whether the last :func:`run` ended by a second signal, which may have come while XLA
    compiled or ran on its own threads: the interpreter's shutdown then raced them, and 2 of
    26 double Ctrl-C's during a first iteration's compilation aborted the process (SIGABRT:
    "pure virtual method called", a corrupted heap) after its line, instead of exit 130."""
    return _STOPPED["at_once"]


def _interrupted_at_once(args: list[str]) -> None:
    from infodyn.experiments.interrupt import resume_after_stop

    _STOPPED["at_once"] = True

    words = [a for a in args if not a.startswith("-")]
    name = words[0] if words else None
    command = resume_after_stop()  # the first signal's line gave it; this one did not
    if name is not None and name not in KEEP_PROGRESS:  # info, energy, ...: "the last checkpoint"
        kept = f"{name} keeps no checkpoint: run it again to start over"  # was named to them
    else:
        kept = "the last checkpoint, if any, is kept" + (
            f" (resume with: {command})" if command else ""
        )
    print(
        f"infodyn: interrupted at once: every file written so far is complete (atomic "
        f"writes); {kept}",
        file=sys.stderr,
    )


def run(app: Any, argv: list[str] | None = None) -> int:
    """Run the typer ``app`` and return the process exit code (see the module docstring)."""
    from infodyn.experiments.interrupt import Interrupted, command_running

    args = sys.argv[1:] if argv is None else argv  # the command line's words
    _STOPPED["at_once"] = False
    command_running(True)
    try:
        platform_preflight()
        refuse_empty_out(args)
        rc = app(args=argv, standalone_mode=False, prog_name="infodyn")
        if rc == EXIT_INTERRUPT:  # typer turns KeyboardInterrupt into a silent Exit(130)
            _interrupted_at_once(args)
        return rc if isinstance(rc, int) else 0
    except Interrupted as exc:
        print(f"infodyn: interrupted: {exc}", file=sys.stderr)
        return EXIT_INTERRUPT
    except KeyboardInterrupt:
        _interrupted_at_once(args)
        return EXIT_INTERRUPT
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # noqa: BLE001 - the single place that classifies failures
        if _is(exc, "Abort") and isinstance(exc.__context__, EOFError):
            exc = exc.__context__  # typer wraps an EOFError that escaped a command: report it
        if _is(exc, "Abort"):
            print("infodyn: aborted", file=sys.stderr)
            return EXIT_INTERRUPT
        if _raised_by_interrupt(exc):  # after Abort: Ctrl-C at a prompt stays "aborted"
            _interrupted_at_once(args)
            return EXIT_INTERRUPT
        if _is(exc, "ClickException"):
            return _usage_error(exc, app, args)
        line = explain(exc)
        if line is not None:
            _say(name_options(line, args))
            return EXIT_ERROR
        traceback.print_exception(exc)
        print(
            f"infodyn: internal error ({type(exc).__name__}): this is a bug in infodyn, not in "
            f"your input; please report it, with the command, its config and the traceback "
            f"above, to {REPORT_BUGS}",
            file=sys.stderr,
        )
        return EXIT_BUG
    finally:
        command_running(False)
