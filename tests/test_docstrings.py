"""Every public function and class of the package says what it is: a docstring on each name
without a leading underscore that a module of ``infodyn`` defines (names it imports from
elsewhere are checked where they are defined)."""

import importlib
import inspect
import pkgutil

import infodyn


def _public_definitions():
    for info in pkgutil.walk_packages(infodyn.__path__, "infodyn."):
        if info.name.endswith("__main__"):  # runs the command line when imported
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) == info.name:
                yield f"{info.name}.{name}", obj


def test_every_public_function_and_class_has_a_docstring():
    names = dict(_public_definitions())
    assert len(names) > 400  # the walk found the package
    bare = sorted(qual for qual, obj in names.items() if not (obj.__doc__ or "").strip())
    assert not bare, f"{len(bare)} public names without a docstring: {bare}"
