"""The Ising / Hopfield energy model over binary states.

``E(x) = -1/2 x^T J x + theta^T x`` for ``x`` in {0,1}^n, J symmetric with zero diagonal,
``p(x) = exp(-E(x)) / Z``. (theta is a threshold: a large positive theta_i makes unit i rarely
active.)

Spin convention. With ``s = 2x - 1`` in {-1,+1}^n the same energy reads
``E = -1/2 s^T W s - b^T s + c`` with ``W = J/4``, ``b = J 1/4 - theta/2`` and
``c = theta^T 1/2 - 1^T J 1/8`` (``to_spin``); conversely ``J = 4W``, ``theta = 2 W 1 - 2b``
(``from_spin``). The constant c cancels in p(x).
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from infodyn.atomic import save_npz, to_jsonable
from infodyn.energy._checks import as_binary, ising_parameters
from infodyn.energy.dynamics import (
    block_rows,
    descend,
    drive,
    fixed_points,
    flip_energies,
    is_fixed_point,
    require_rows_memory,
)
from infodyn.energy.partition import ais_log_partition, all_states, exact_log_partition
from infodyn.energy.sampling import sample
from infodyn.errors import (
    InputError,
    as_table,
    existing_file,
    finite_reals,
    is_finite_number,
    reading,
    require,
    require_choice,
    require_finite_number,
)

#: the keyword options of :meth:`IsingModel.log_partition` for each method: those of its
#: function beyond the model's own J, theta and V
_Z_OPTIONS = {
    method: tuple(p for p in inspect.signature(fn).parameters if p not in ("J", "theta", "V"))
    for method, fn in (("exact", exact_log_partition), ("ais", ais_log_partition))
}


class IsingModel:
    """An energy model ``E(x) = -1/2 x^T J x + theta^T x`` over {0,1}^n.

    ``J`` must be square, symmetric (to 1e-10) with zero diagonal; ``theta`` has one entry per
    unit. The arrays are stored read-only as float64. ``fit_info`` holds the fit's record.
    """

    #: Subclasses whose files hold one extra array, by its name (``V``: K-pairwise): filled by
    #: ``class Sub(IsingModel, file_key="V")`` so that :meth:`load` needs no import of them.
    _file_kinds: ClassVar[dict[str, type]] = {}

    def __init_subclass__(cls, file_key: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if file_key is not None:
            IsingModel._file_kinds[file_key] = cls

    def __init__(self, J: Any, theta: Any, fit_info: dict[str, Any] | None = None) -> None:
        J, theta, _, _ = ising_parameters(J, theta)
        J.flags.writeable = False
        theta.flags.writeable = False
        self.J = J
        self.theta = theta
        # [[1, 2]] became {1: 2}, 0 and [] were read as no record
        self.fit_info: dict[str, Any] = as_table(fit_info, "fit_info")
        self._log_z: dict[str, Any] = {}

    # ------------------------------------------------------------------ basics
    @property
    def n(self) -> int:
        return int(self.theta.shape[0])

    @property
    def potential(self) -> np.ndarray:
        """The potential ``V(K)`` on the number of active units, K = 0..n: zero for a pairwise
        model (``KPairwiseModel`` has its own)."""
        return np.zeros(self.n + 1)

    @property
    def n_params(self) -> int:
        """d = n(n+1)/2 free parameters (couplings i<j and fields)."""
        return self.n * (self.n + 1) // 2

    def __repr__(self) -> str:
        method = self.fit_info.get("method")
        extra = f", fit by {method}" if method else ""
        return f"IsingModel(n={self.n}{extra})"

    def energy(self, X: Any) -> np.ndarray:
        """``E(x)`` for each row of X (M, n) -> (M,) float64 (a single state gives shape (1,); no
        rows, such as the strict fixed points of a model that has none, give shape (0,))."""
        X = as_binary(X, n=self.n, min_rows=0)
        out = np.empty(X.shape[0])
        step = block_rows(self.n)  # float64 copies of a block only: 10^5 rows of 250 bits
        for lo in range(0, X.shape[0], step):  # took 470 MB at once
            Xf = X[lo : lo + step].astype(np.float64)
            out[lo : lo + step] = -0.5 * np.einsum("mi,mi->m", Xf @ self.J, Xf) + Xf @ self.theta
        return out

    def drive(self, X: Any) -> np.ndarray:
        """``h = X J - theta`` (M, n): h_i > 0 means setting x_i = 1 lowers the energy (checked
        against the free memory first)."""
        X = as_binary(X, n=self.n, min_rows=0)
        require_rows_memory(X, "the drives")
        return drive(self, X)

    def flip_energies(self, X: Any) -> np.ndarray:
        """``u_i(x) = E(x with bit i flipped) - E(x)`` (M, n)."""
        return flip_energies(self, X)

    def conditional(self, X: Any) -> np.ndarray:
        """``p(x_i = 1 | x_rest) = sigmoid(h_i)`` (M, n)."""
        return 1.0 / (1.0 + np.exp(-self.drive(X)))

    # ------------------------------------------------------------------ conversions
    def to_spin(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(W, b, c)`` of the {-1,+1} form ``E = -1/2 s^T W s - b^T s + c`` (module docstring)."""
        W = self.J / 4.0
        b = self.J.sum(1) / 4.0 - self.theta / 2.0
        c = float(self.theta.sum() / 2.0 - self.J.sum() / 8.0)
        return W, b, c

    @classmethod
    def from_spin(cls, W: Any, b: Any, fit_info: dict[str, Any] | None = None) -> IsingModel:
        """The model with energy ``-1/2 s^T W s - b^T s`` over spins s = 2x - 1 (W symmetric,
        zero diagonal): ``J = 4W``, ``theta = 2 W 1 - 2b``."""
        W = finite_reals(W, "W")
        b = finite_reals(b, "b").reshape(-1)
        require(
            W.ndim == 2 and W.shape[0] == W.shape[1] == b.shape[0], "W must be (n, n) and b (n,)"
        )
        return cls(4.0 * W, 2.0 * W.sum(1) - 2.0 * b, fit_info)

    @classmethod
    def independent(cls, X: Any, pseudocount: float = 0.5) -> IsingModel:
        """The independent (J = 0) model matching the unit means of X, with ``pseudocount``
        half-observations added to each outcome: ``theta_i = log((1 - m_i) / m_i)``."""
        X = as_binary(X)
        require(
            is_finite_number(pseudocount) and pseudocount >= 0,
            f"pseudocount must be a number >= 0, got {pseudocount!r}",
        )
        M = X.shape[0]
        pseudocount = float(pseudocount)  # 10**30, an int, overflowed NumPy's C long
        m = (X.sum(0) + pseudocount) / (M + 2 * pseudocount)
        if np.any((m <= 0) | (m >= 1)):
            raise InputError("a constant unit needs pseudocount > 0 for the independent model")
        return cls(
            np.zeros((X.shape[1], X.shape[1])), np.log((1 - m) / m), {"method": "independent"}
        )

    # ------------------------------------------------------------------ dynamics
    def descend(
        self, X: Any, order: str = "sequential", seed: int = 0, max_sweeps: int = 1000
    ) -> np.ndarray:
        """Asynchronous descent from each row of X; returns the fixed points reached (M, n)."""
        return descend(self, X, order=order, seed=seed, max_sweeps=max_sweeps)

    def fixed_points(
        self,
        X: Any = None,
        method: str = "auto",
        n_starts: int = 10000,
        strict: bool = False,
        seed: int = 0,
    ) -> np.ndarray:
        """Fixed points (memories), unique, sorted by energy: see ``dynamics.fixed_points``."""
        return fixed_points(self, X, method=method, n_starts=n_starts, strict=strict, seed=seed)

    def is_fixed_point(self, X: Any, strict: bool = False) -> np.ndarray:
        return is_fixed_point(self, X, strict=strict)

    # ------------------------------------------------------------------ generation
    def sample(self, n: int, seed: int = 0, **kwargs: Any) -> np.ndarray:
        """``n`` samples (n, n_units) uint8 by Gibbs sampling; see ``sampling.sample``."""
        return sample(self, n, seed=seed, **kwargs)

    # ------------------------------------------------------------------ density
    def log_partition(self, method: str = "auto", **kwargs: Any) -> float:
        """``log Z`` in nats (with the potential V(K) of a K-pairwise model): ``"exact"``
        (enumeration, n <= 34), ``"ais"`` (annealed importance sampling; keyword options go to
        ``partition.ais_log_partition``) or ``"auto"`` (exact for n <= 24). Results are cached
        per method and options."""
        require_choice("method", method, ("auto", "exact", "ais"))
        V = self.potential if np.any(self.potential) else None
        method = self._z_method(method)
        unknown = sorted(set(kwargs) - set(_Z_OPTIONS[method]))
        if unknown:  # was a raw TypeError (exact), or ignored below (J = 0)
            raise InputError(
                f"log_partition({method!r}) has no option {', '.join(unknown)}; its options: "
                f"{', '.join(_Z_OPTIONS[method])}"
            )
        if not np.any(self.J) and V is None and not kwargs:  # independent units: log Z =
            return float(np.sum(np.logaddexp(0.0, -self.theta)))  # sum log(1 + exp(-theta))
        key = method + repr(sorted(kwargs.items()))
        if key not in self._log_z:
            if method == "exact":
                self._log_z[key] = exact_log_partition(self.J, self.theta, V=V, **kwargs)
            else:
                res = ais_log_partition(self.J, self.theta, V=V, **kwargs)
                self._log_z[key] = res.log_z
                self._log_z["ais_result"] = res
        return float(self._log_z[key])

    def log_likelihood(
        self, X: Any, reduce: str = "mean", log_z: float | None = None, method: str = "auto"
    ) -> float | np.ndarray:
        """``log p(x) = -E(x) - log Z`` in nats: the mean over rows (``reduce="mean"``), their sum
        (``"sum"``) or one value per row (``"none"``). ``log_z`` overrides the computed value."""
        require_choice("reduce", reduce, ("mean", "sum", "none"))
        X = as_binary(X, n=self.n, min_rows=1 if reduce == "mean" else 0)  # no mean of no rows
        if log_z is not None:  # "a" or {}: raw errors of float()
            require_finite_number("log_z", log_z)
        lz = self.log_partition(method) if log_z is None else float(log_z)
        ll = -self.energy(X) - lz
        if ll.size and ll.max() > 1e-9 * max(1.0, abs(lz)):  # p(x) > 1: log Z is too low
            raise InputError(
                f"log p(x) = {ll.max():.6g} > 0 for a row of X: log Z = {lz:.6g} is too low"
                + (" (given)" if log_z is not None else f" ({self._z_method(method)})")
                + "; AIS can miss a deeper mode of a strongly coupled model: use "
                "log_partition('exact') (n <= 34 units) or more inverse temperatures"
            )
        return float(ll.mean()) if reduce == "mean" else float(ll.sum()) if reduce == "sum" else ll

    def _z_method(self, method: str) -> str:
        """How :meth:`log_partition` computes log Z for ``method``: ``"auto"`` is exact for
        n <= 24, else AIS."""
        return method if method != "auto" else "exact" if self.n <= 24 else "ais"

    def probabilities(self) -> np.ndarray:
        """Exact ``p(x)`` of all 2^n states (n <= 22), ordered as ``partition.all_states(n)``."""
        e = -self.energy(all_states(self.n))
        e -= e.max()
        p = np.exp(e)
        return p / p.sum()

    # ------------------------------------------------------------------ storage
    def save(self, path: str | os.PathLike) -> Path:
        """Write J, theta and the fit record to a ``.npz`` file atomically."""
        return save_npz(
            path,
            J=self.J,
            theta=self.theta,
            format=np.array("infodyn-ising-v1"),
            fit_info=np.array(json.dumps(to_jsonable(self.fit_info))),
            **self._extra_arrays(),
        )

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def load(cls, path: str | os.PathLike) -> IsingModel:
        """Read a model written by ``save``."""
        path = existing_file(path, "model file")
        # a truncated or empty file (BadZipFile, EOFError) was a raw error
        with reading(path, "model file", "write it again with model.save"):
            loaded = np.load(path, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy array has no fields
                raise InputError(f"{path} is not an infodyn Ising model file (.npz from save)")
            with loaded as f:
                require("J" in f and "theta" in f, f"{path} is not an infodyn Ising model file")
                fmt = str(f["format"]) if "format" in f else "infodyn-ising-v1"
                require(
                    fmt == "infodyn-ising-v1",
                    f"{path}: model file format {fmt!r}, not 'infodyn-ising-v1'",
                )
                info = json.loads(str(f["fit_info"])) if "fit_info" in f else {}
                require(isinstance(info, dict), f"{path}: fit_info must be a JSON table")
                for key, kind in IsingModel._file_kinds.items():  # e.g. a K-pairwise model
                    if key in f:
                        require(
                            issubclass(kind, cls),
                            f"{path} holds a {kind.__name__}, not a {cls.__name__}",
                        )
                        return kind(f["J"], f["theta"], f[key], info)
                require(  # KPairwiseModel.load passed the fit record as its potential V
                    cls is IsingModel,
                    f"{path} holds a pairwise IsingModel, not a {cls.__name__}; load it with "
                    "IsingModel.load",
                )
                return cls(f["J"], f["theta"], info)
