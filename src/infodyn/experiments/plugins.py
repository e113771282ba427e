"""Plugins: modules that extend infodyn, loaded by the command line and by sweep workers.

A plugin is a module that, when imported, registers what it adds: commands
(:func:`infodyn.experiments.config.register_command`, then run by ``infodyn sweep --command``
and shown by ``infodyn config show``/``init``) and loss kinds that a config's ``[[loss]]``
tables may name (:func:`infodyn.learning.register_loss_kind`). Registered in a script, they
reached neither the ``infodyn`` command (it imports only its own modules: "unknown command")
nor the worker processes of a sweep (a loss kind added in the parent was unknown there). Two
ways to name plugins, both read by :func:`load_plugins`:

* the environment variable ``INFODYN_PLUGINS``: module names separated by commas
  (``INFODYN_PLUGINS=mylab.infodyn_plugin``; the module must be importable, e.g. on
  ``PYTHONPATH``); worker processes inherit it;
* the entry-point group ``infodyn.plugins`` of an installed package, in its ``pyproject.toml``::

      [project.entry-points."infodyn.plugins"]
      mylab = "mylab.infodyn_plugin"

  (a ``"module:function"`` value is called after the import, with no arguments).

:func:`load_plugins` runs where what plugins register is looked up: the command registry
(:func:`~infodyn.experiments.command_registry.get_command`, ``detect_command``: ``infodyn config``,
``infodyn sweep`` and the Python ``run_sweep``), a train config's loss, and a sweep worker before
each point; each plugin is loaded once per process. Other commands (``convert``, ``simulate``,
``--help``) never load them, so a broken plugin does not stand in their way. A plugin that
cannot be imported (or exits) is one :class:`~infodyn.errors.InputError` naming it and where
it was named.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

from infodyn.errors import InputError

#: the environment variable naming plugin modules (comma-separated)
ENV = "INFODYN_PLUGINS"
#: the entry-point group of installed plugins
GROUP = "infodyn.plugins"

_loaded: set[str] = set()


def plugin_names() -> list[tuple[str, str]]:
    """``(reference, where it was named)`` of every plugin: ``INFODYN_PLUGINS`` first, then
    the ``infodyn.plugins`` entry points."""
    named = [(m.strip(), ENV) for m in os.environ.get(ENV, "").split(",") if m.strip()]
    named += [(ep.value, f"entry point {ep.name!r} ({GROUP})") for ep in entry_points(group=GROUP)]
    return named


def load_plugins() -> list[str]:
    """Import every plugin not loaded yet in this process (module docstring); return the
    references loaded by this call."""
    done = []
    for ref, where in plugin_names():
        if ref in _loaded:
            continue
        module, _, attr = ref.partition(":")
        try:
            obj = importlib.import_module(module)
            for part in filter(None, attr.split(".")):
                obj = getattr(obj, part)
            if attr:
                obj()
        except InputError as exc:  # its own registration refused: say which plugin
            raise InputError(f"plugin {ref!r} (named by {where}): {exc}") from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure is one line
            raise InputError(
                f"plugin {ref!r} (named by {where}) could not be loaded: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        _loaded.add(ref)
        done.append(ref)
    return done
