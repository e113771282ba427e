"""Sweeps from a script need a ``__main__`` guard (infodyn.experiments.mainguard)."""

import pytest

from infodyn.errors import InputError


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
