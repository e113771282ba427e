"""Sweeps from a script need a ``__main__`` guard (infodyn.experiments.mainguard)."""

import sys
import types

import pytest

from infodyn.errors import InputError
from infodyn.experiments.mainguard import require_main_guard


def test_main_guard_check(tmp_path, monkeypatch):
    import sys
    import types

    from infodyn.experiments.mainguard import require_main_guard

    script = tmp_path / "s.py"
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    script.write_text("from x import run_sweep\nif __name__ == '__main__':\n    run_sweep(1)\n")
    require_main_guard()
    script.write_text("from x import run_sweep\n\nres = run_sweep(1)\n")
    with pytest.raises(InputError, match=r"s.py:3: run_sweep\(\) is called at the top level"):
        require_main_guard()


def _as_main(monkeypatch, path):
    main = types.ModuleType("__main__")
    main.__file__ = str(path)
    monkeypatch.setitem(sys.modules, "__main__", main)


def test_main_guard_forms_functions_and_attribute_calls(tmp_path, monkeypatch):
    script = tmp_path / "s.py"
    _as_main(monkeypatch, script)
    # the reversed comparison is a guard; a call inside a function runs only when called
    script.write_text(
        "import sweep\n\ndef main():\n    sweep.run_sweep(1)\n\n"
        "if '__main__' == __name__:\n    sweep.run_sweep(2)\n    main()\n"
    )
    require_main_guard()
    script.write_text("import infodyn.experiments.sweep as sw\nsw.run_sweep(1)\n")
    with pytest.raises(InputError, match=r"s.py:2: run_sweep\(\)"):
        require_main_guard()


def test_main_guard_ignores_a_console_script(tmp_path, monkeypatch):
    script = tmp_path / "tool"  # an entry point script: not re-imported by spawned workers
    script.write_text("from x import run_sweep\nrun_sweep(1)\n")
    _as_main(monkeypatch, script)
    require_main_guard()
