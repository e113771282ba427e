"""MkDocs hook: generate the API reference pages (``api/*.md``) at build time.

One page per package: its public names (``__all__``) rendered by mkdocstrings, then every public
submodule's functions and classes that the package does not re-export, so each public name of
the library has an entry and a new one cannot be missed.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

PACKAGES = {
    "network": "LIF/ALIF networks, engines, encoders, sparse weights.",
    "learning": "e-prop, BPTT, losses, tasks, the trainer, information objectives, adaptation.",
    "criticality": "Branching ratio, avalanches, power laws, branching processes.",
    "information": "Entropy, mutual information, multivariate measures, PID, transfer entropy.",
    "energy": "Ising/Hopfield energy models: fitting, memories, sampling, partition functions.",
    "data": "Spike files, recordings (NWB, Neo, phy, pynapple), atomic writes, natural images.",
    "experiments": "Configs, run directories, the pipeline, sweeps, reports.",
}
CORE_MODULES = ("infodyn.errors", "infodyn.memory", "infodyn.plotting")


def _own_public(module: Any) -> list[str]:
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and getattr(obj, "__module__", "") == module.__name__
    ]


def _block(target: str, members: list[str] | None, heading: bool) -> list[str]:
    lines = [f"::: {target}", "    options:", f"      show_root_heading: {str(heading).lower()}"]
    if members is not None:
        lines.append(f"      members: [{', '.join(members)}]")
    return lines + [""]


def package_page(name: str) -> str:
    pkg = importlib.import_module(f"infodyn.{name}")
    exported = set(getattr(pkg, "__all__", []))
    lines = [f"# `infodyn.{name}`", "", PACKAGES[name], ""]
    lines += _block(f"infodyn.{name}", None, heading=False)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"infodyn.{name}.{info.name}")
        rest = [n for n in _own_public(module) if n not in exported]
        if rest:
            lines += [f"## `infodyn.{name}.{info.name}`", ""]
            lines += _block(module.__name__, rest, heading=False)
    return "\n".join(lines)


def core_page() -> str:
    lines = ["# `infodyn` (errors, memory, plotting)", ""]
    for target in CORE_MODULES:
        lines += [f"## `{target}`", ""] + _block(target, None, heading=False)
    return "\n".join(lines)


def index_page() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings when this site was built: every name a package exports,",
        "then the public functions and classes of its modules that it does not re-export.",
        "",
        "| package | contents |",
        "| --- | --- |",
    ]
    lines += [f"| [`infodyn.{n}`]({n}.md) | {d} |" for n, d in PACKAGES.items()]
    lines.append("| [`infodyn`](core.md) | `InputError`, memory preflight, plotting helpers. |")
    return "\n".join(lines) + "\n"


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    pages = {"api/index.md": index_page(), "api/core.md": core_page()}
    pages.update({f"api/{n}.md": package_page(n) for n in PACKAGES})
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    return files
