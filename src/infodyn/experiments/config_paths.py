"""Paths in config files: read from the directory infodyn runs in, as a shell would read them.

A config's relative paths (``[simulation] params``, ``spikes`` of an energy config, the
``images`` of the images pipeline; fields marked with :data:`PATH_FIELD`) are read from the
current directory, not from the config file's folder: a sweep's points, a Dask worker and the
command line then all see the same file. The usual slip is a config kept beside its data and run
from elsewhere (``infodyn simulate sub/run.toml`` with ``params = "w.npz"`` and ``sub/w.npz``):
:func:`check_config_paths` finds a relative path that is missing here but exists beside the
config, and says so in one line instead of a bare "no such file".
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from infodyn.errors import InputError

#: ``json_schema_extra`` of a config field that holds a path (or a list of paths)
PATH_FIELD = {"path": True}


def path_values(cfg: BaseModel, prefix: str = "") -> list[tuple[str, str]]:
    """``(key, path)`` of every path a config holds, through its sections (keys dotted)."""
    found: list[tuple[str, str]] = []
    for name, field in type(cfg).model_fields.items():
        value = getattr(cfg, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            found += path_values(value, f"{key}.")
        elif isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("path"):
            items = value if isinstance(value, list) else [value]
            found += [(key, item) for item in items if isinstance(item, str)]
    return found


def check_config_paths(cfg: BaseModel, config_file: str | os.PathLike) -> None:
    """Refuse a relative path of ``cfg`` that does not exist from the current directory but
    does beside ``config_file``, with the path to give instead."""
    folder = Path(config_file).parent
    if folder == Path("."):
        return
    for key, value in path_values(cfg):
        path = Path(value).expanduser()
        if path.is_absolute() or path.exists() or not (folder / path).exists():
            continue
        raise InputError(
            f"{config_file}: [{key}] = {value!r} is not in the current directory "
            f"({Path.cwd()}) but is beside the config ({folder / path}): paths in a config are "
            f"read from the directory infodyn runs in; give {str(folder / path)!r} or an "
            f"absolute path, or run infodyn from {folder}"
        )
