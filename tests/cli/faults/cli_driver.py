"""Run many ``infodyn`` command lines in one process, so the imports (JAX) are paid once.

Usage: ``python cli_driver.py CASES.json RESULTS.json`` with ``CASES`` a list of
``{"id", "argv", "env"}``; each case goes through :func:`infodyn.cli.errors.run`, the same path
as the console script, with its stdout and stderr captured. Not a test module.
"""

import contextlib
import io
import json
import os
import sys


def main() -> None:
    cases = json.loads(open(sys.argv[1]).read())
    from infodyn.cli import app
    from infodyn.cli.errors import run

    results = []
    for case in cases:
        env = case.get("env", {})
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                rc = run(app, case["argv"])
            except SystemExit as exc:  # pragma: no cover - run() returns codes itself
                rc = exc.code
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        results.append(
            {"id": case["id"], "rc": rc, "stderr": err.getvalue(), "stdout": out.getvalue()}
        )
    with open(sys.argv[2], "w") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main()
