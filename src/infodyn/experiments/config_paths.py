"""Paths in config files: read from the directory infodyn runs in, as a shell would read them.

A leading ``~`` in a path is the home folder, as a shell reads it. A config's relative paths
(``[simulation] params``, ``spikes`` of an energy config, the
``images`` of the images pipeline; fields marked with :data:`PATH_FIELD`) are read from the
current directory, not from the config file's folder; a sweep makes them absolute before its
points go out (:func:`with_absolute_paths`), so a Dask worker in another folder reads the same
file. The usual slip is a config kept beside its data and run
from elsewhere (``infodyn simulate sub/run.toml`` with ``params = "w.npz"`` and ``sub/w.npz``):
:func:`check_config_paths` finds a relative path that is missing here but exists beside the
config, and says so in one line instead of a bare "no such file".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from infodyn.data.image_files import BUILTIN_IMAGES
from infodyn.errors import InputError

#: ``json_schema_extra`` of a config field that holds a path (or a list of paths)
PATH_FIELD = {"path": True}


def expand_home(value: Any) -> Any:
    """``value`` (a path, a list of them, or None) with a leading ``~`` made the home folder."""
    if isinstance(value, list):
        return [expand_home(v) for v in value]
    return os.path.expanduser(value) if isinstance(value, str) and value.startswith("~") else value


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


def recorded_working_directory(config_file: str | os.PathLike) -> Path | None:
    """The directory a run was started in, when ``config_file`` is its ``config.json`` (its
    ``"working_directory"``; ``None`` for a TOML file or an older record)."""
    path = Path(config_file)
    if path.suffix.lower() != ".json":
        return None
    try:
        folder = json.loads(path.read_text(encoding="utf-8")).get("working_directory")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return Path(folder) if isinstance(folder, str) and folder else None


def check_config_paths(cfg: BaseModel, config_file: str | os.PathLike) -> None:
    """Refuse a relative path of ``cfg`` that does not exist from the current directory but
    does beside ``config_file``, with the path to give instead; for a run's ``config.json``,
    one that exists from the directory the run was started in
    (:func:`recorded_working_directory`: ``infodyn simulate run/config.json`` from another
    folder read its ``params = "w.npz"`` from there, "no such file")."""
    folder, where = Path(config_file).parent, "beside the config"
    started = recorded_working_directory(config_file)
    if started is not None:
        folder, where = started, "in the folder its run was started from"
    if folder.resolve() == Path.cwd().resolve():
        return
    for key, value in path_values(cfg):
        path = Path(value).expanduser()
        if path.is_absolute() or path.exists() or not (folder / path).exists():
            continue
        raise InputError(
            f"{config_file}: [{key}] = {value!r} is not in the current directory "
            f"({Path.cwd()}) but is {where} ({folder / path}): paths in a config are "
            f"read from the directory infodyn runs in; give {str(folder / path)!r} or an "
            f"absolute path, or run infodyn from {folder}"
        )


def refuse_missing_inputs(cfg: BaseModel, where: str) -> None:
    """Refuse a config whose path (a :data:`PATH_FIELD` value; not a built-in image's name)
    names nothing from the current directory: a sweep on a local cluster, whose workers read
    the same folders, started its cluster and ran every point into "no such file"."""
    for key, value in path_values(cfg):
        if not value or value in BUILTIN_IMAGES or Path(value).expanduser().exists():
            continue
        raise InputError(
            f"{where}: [{key}] = {value!r} names no file or folder from the current directory "
            f"({Path.cwd()}), so the point could not run; give an existing path (relative "
            "paths are read from the folder infodyn runs in)"
        )


def with_absolute_paths(cfg: BaseModel, data: dict) -> dict:
    """``data`` (``cfg`` resolved to a dict) with each relative :data:`PATH_FIELD` value that
    names an existing file or folder here made absolute: a sweep's points then read the files
    the sweep was started beside, wherever a Dask worker runs (a remote worker read
    ``data/w.npz`` from its own folder: another file, or none). Values that name nothing here
    (built-in image names, a file yet to be made) stay as they are."""
    out = json.loads(json.dumps(data))

    def absolute(value: Any) -> Any:
        # a built-in image's name stays a name (the reader takes it first: a folder "camera"
        # here was read in its place); links and '..' stay as written, below this folder
        if not isinstance(value, str) or not value or value in BUILTIN_IMAGES:
            return value
        path = Path(value).expanduser()
        return str(Path.cwd() / path) if not path.is_absolute() and path.exists() else value

    for key in dict(path_values(cfg)):
        *parents, leaf = key.split(".")
        table = out
        for name in parents:
            table = table[name]
        value = table[leaf]
        table[leaf] = [absolute(v) for v in value] if isinstance(value, list) else absolute(value)
    return out
