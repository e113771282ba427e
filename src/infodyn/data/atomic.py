"""Atomic file writes under their former path: the functions live in :mod:`infodyn.atomic`, a
root module below every package, so that the command line and the run folders write their
files without loading the data package (h5py, SciPy's image modules)."""

from infodyn.atomic import (
    atomic_path,
    remove_temporaries,
    save_npz,
    to_jsonable,
    write_csv,
    write_json,
    write_text,
)

__all__ = [
    "atomic_path",
    "remove_temporaries",
    "save_npz",
    "to_jsonable",
    "write_csv",
    "write_json",
    "write_text",
]
