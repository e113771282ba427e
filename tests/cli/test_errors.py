"""The CLI's classification of failures (infodyn.cli.errors): expected ones explained in one
line, a bug keeps its traceback and says so."""

import io
from contextlib import redirect_stderr

import pytest
import typer

from infodyn.cli import app
from infodyn.cli.errors import EXIT_INTERRUPT, _interrupted_at_once, run
from infodyn.errors import InputError


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (PermissionError(13, "Permission denied", "/x/out"), "/x/out: permission denied"),
        (FileExistsError(17, "File exists", "out"), "out: a file is in the way"),
        (NotADirectoryError(20, "Not a directory", "f/o"), "f/o: a file is in the way"),
        (OSError(28, "No space left on device", "big.h5"), "big.h5: no space left"),
        (MemoryError(), "out of memory"),
        (InputError("[network.n_rec] bad"), "[network.n_rec] bad"),
    ],
)
def test_cli_explains_expected_failures(exc, words):
    from infodyn.cli.errors import explain

    assert words in explain(exc)


def test_messages_name_the_options_the_user_typed():
    from infodyn.cli.errors import name_options

    argv = ["criticality", "s.h5", "--n-boot", "1", "--min-tail=1", "--seed", "3"]
    line = "n_boot must be 0 or at least 2; min_tail too; seed; xn_boot and n_boot_2 stay"
    assert name_options(line, argv) == (
        "--n-boot must be 0 or at least 2; --min-tail too; seed; xn_boot and n_boot_2 stay"
    )
    assert name_options("n_boot must be", ["criticality"]) == "n_boot must be"  # not typed
    # a one-word option as a config key: "[window]" stood beside "[--test-fraction]"
    assert name_options("[window] must be >= 1; window", ["energy", "--window", "0"]) == (
        "[--window] must be >= 1; window"
    )
    # options named otherwise than their parameter (energy's --samples, info's --shuffles)
    assert name_options("[n_samples] must be >= 100", ["energy", "--samples", "5"]) == (
        "[--samples] must be >= 100"
    )
    assert name_options("n_shuffles must be >= 0", ["info", "--shuffles=-1"]) == (
        "--shuffles must be >= 0"
    )


def _run_failing(exc: BaseException) -> tuple[int, str]:
    """Run, as ``infodyn`` runs its commands, an app whose command raises ``exc`` (two commands,
    so that typer keeps the command name): ``(exit code, stderr)``."""
    cli = typer.Typer()

    @cli.command()
    def boom() -> None:
        raise exc

    @cli.command()
    def other() -> None:
        pass

    err = io.StringIO()
    with redirect_stderr(err):
        rc = run(cli, ["boom"])
    return rc, err.getvalue()


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (RuntimeError("unexpected"), "RuntimeError: unexpected"),
        # typer wraps an EOFError escaping a command in its own Abort (not click's): it was
        # reported as an internal error about "Abort" with no message
        (EOFError("no data left in file"), "EOFError: no data left in file"),
    ],
)
def test_cli_bug_keeps_traceback_and_says_it_is_a_bug(exc, shown):
    rc, text = _run_failing(exc)
    assert rc == 1 and "Traceback" in text and shown in text, text
    last = text.strip().splitlines()[-1]
    assert f"internal error ({type(exc).__name__})" in last and "this is a bug in infodyn" in last


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # an unset shell variable: the run wrote into the working directory
        (["simulate", "c.toml", "--out", ""], "--out is empty (an unset shell variable?)"),
        (["simulate", "c.toml", "--out="], "--out is empty"),
        # click printed its own "Error: ..." block for an option without its value
        (["simulate", "c.toml", "--out"], "Option '--out' requires an argument"),
        # it named no command: "...; see 'infodyn --help'"
        (
            ["config", "show", "--command"],
            "infodyn config show: Option '--command' requires an "
            "argument; see 'infodyn config show --help'",
        ),  # fmt: skip
        # a positional path "" is "." too: "the working folder is not a phy folder"
        (["criticality", "", "--out", "o"], "argument 2 is empty (an unset shell variable?)"),
        (["convert", "s.h5", " "], "argument 3 is empty"),
    ],
)
def test_bad_out_is_one_infodyn_line(argv, message, tmp_path, monkeypatch):
    from infodyn.cli import app
    from infodyn.cli.errors import run

    monkeypatch.chdir(tmp_path)
    err = io.StringIO()
    with redirect_stderr(err):
        rc = run(app, argv)
    text = err.getvalue()
    assert rc == 2 and text.startswith("infodyn: error: ") and message in text, text
    assert len(text.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_empty_argument_after_an_option_with_equals_is_refused(tmp_path, monkeypatch):
    """E5: ``--out=o ""``: the empty positional is not an option's value, so it is refused
    (typer would read it as '.', the working folder)."""

    monkeypatch.chdir(tmp_path)
    err = io.StringIO()
    with redirect_stderr(err):
        rc = run(app, ["criticality", "--out=o", ""])
    text = err.getvalue()
    assert rc == 2 and "argument 3 is empty (an unset shell variable?)" in text, text
    assert len(text.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_abort_is_an_interrupt_with_exit_130():
    """E7: click's Abort (Ctrl-C at a prompt) is an interrupt: 'infodyn: aborted', exit 130."""
    rc, text = _run_failing(typer.Abort())
    assert rc == EXIT_INTERRUPT == 130
    assert text.strip() == "infodyn: aborted"


def _import_failed_on_ctrl_c() -> ImportError:
    """What Ctrl-C during the import of a pybind11 module (SciPy's) raises: an ImportError
    raised from the KeyboardInterrupt."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise ImportError("initialization failed") from interrupt
    except ImportError as exc:
        return exc


def test_an_error_raised_from_ctrl_c_is_an_interrupt_not_a_bug():
    # it was reported as "internal error (ImportError): this is a bug in infodyn", exit 1
    rc, text = _run_failing(_import_failed_on_ctrl_c())
    assert rc == EXIT_INTERRUPT, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert text.strip().startswith("infodyn: interrupted at once"), text


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["info", "s.h5"], "info keeps no checkpoint: run it again to start over"),
        (["--quiet", "energy", "s.h5"], "energy keeps no checkpoint: run it again"),
        (["train", "c.toml"], "the last checkpoint, if any, is kept"),
        (["simulate", "c.toml"], "the last checkpoint, if any, is kept"),
    ],
)
def test_ctrl_c_names_a_checkpoint_only_for_commands_that_keep_one(argv, said):
    # info and energy were told "the last checkpoint, if any, is kept": they write none
    err = io.StringIO()
    with redirect_stderr(err):
        _interrupted_at_once(argv)
    assert said in err.getvalue(), err.getvalue()


def test_ctrl_c_at_a_prompt_stays_aborted():
    """click raises Abort from the KeyboardInterrupt of a Ctrl-C at a prompt: still 'aborted'."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise typer.Abort() from None
    except typer.Abort as exc:
        abort = exc
    rc, text = _run_failing(abort)
    assert rc == EXIT_INTERRUPT and text.strip() == "infodyn: aborted", text


def test_the_commands_said_to_keep_progress_are_those_that_resume():
    import typer.main

    from infodyn.cli.app import app
    from infodyn.cli.errors import KEEP_PROGRESS

    commands = typer.main.get_command(app).commands
    resume = {n for n, c in commands.items() if any("--resume" in p.opts for p in c.params)}
    assert KEEP_PROGRESS == resume | {"sweep"}  # a sweep's rerun skips its finished points


def test_main_in_a_process_that_goes_on_leaves_its_signal_handlers():
    # main() ignored SIGINT and SIGTERM once it had its exit code, for the interpreter's
    # shutdown: a script or kernel that caught the SystemExit could no longer be interrupted
    import signal

    from infodyn.cli import main

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit):
        main(["config", "init", "train"])
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_an_error_with_stderr_closed_stays_out_of_stdout(tmp_path):
    """Started with stderr closed (`2>&-`), print(..., file=sys.stderr) wrote the error line to
    stdout: `infodyn config show bad.toml > resolved.toml 2>&-` put it into the TOML file."""
    import os
    import subprocess
    import sys

    (tmp_path / "bad.toml").write_text("[network]\nn_recc = 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "config", "show", str(tmp_path / "bad.toml")],
        stdout=subprocess.PIPE,
        stderr=None,
        preexec_fn=lambda: os.close(2),  # the child starts with fd 2 closed
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == b""


@pytest.mark.parametrize("args", [["config", "init", "train"], ["config", "list"], ["--version"]])
def test_what_a_command_prints_is_refused_with_stdout_closed(args):
    """`infodyn config init > &-` (stdout closed at start) lost the config in silence and
    exited 0: a command whose product is its stdout says so and exits 2."""
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "infodyn.cli", *args],
        stdout=None,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),  # the child starts with fd 1 closed
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == (
        "infodyn: error: stdout is closed (>&-), so there is nothing to print to; "
        "redirect it (> FILE)"
    )
