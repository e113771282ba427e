"""The K-pairwise model: a pairwise energy plus a potential on the number of active units.

``E(x) = -1/2 x^T J x + theta^T x + V(K)``, ``K = sum_i x_i`` (Tkacik et al. 2014, PLoS Comput
Biol 10:e1003408, eq. 5). The potential reproduces the distribution P(K) of the population count,
which pairwise models of large populations miss. V has n + 1 values, but its constant, linear and
quadratic parts are already in the pairwise terms: ``V(K) = a K`` equals ``theta_i -> theta_i + a``
and ``V(K) = b K(K-1)/2 = b sum_{i<j} x_i x_j`` equals ``J_ij -> J_ij - b``. The canonical gauge
(``canonical``) moves them there, leaving ``V(0) = V(1) = V(2) = 0``; fitting works in it, so
the model has ``n(n+1)/2 + n - 2`` free parameters.

Everything that works on :class:`~infodyn.energy.model.IsingModel` works on this model (its
kernels read ``potential``): sampling, descent and memories, exact and AIS log Z, held-out
likelihood, heat capacity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.energy._checks import as_binary, require_model
from infodyn.energy.model import IsingModel
from infodyn.errors import finite_reals, require


class KPairwiseModel(IsingModel, file_key="V"):
    """``E(x) = -1/2 x^T J x + theta^T x + V(K)`` over {0,1}^n; ``V`` holds V(0..n)."""

    def __init__(self, J: Any, theta: Any, V: Any, fit_info: dict[str, Any] | None = None) -> None:
        super().__init__(J, theta, fit_info)
        V = finite_reals(V, "V")
        require(  # [[0, 1, 2]] was flattened
            V.shape == (self.n + 1,),
            f"V must be a vector of n + 1 = {self.n + 1} values, got shape {V.shape}",
        )
        require(bool(np.all(np.isfinite(V))), "V must be finite")
        V.flags.writeable = False
        self.V = V

    @property
    def potential(self) -> np.ndarray:
        return self.V

    @property
    def n_params(self) -> int:
        """n(n+1)/2 pairwise parameters plus the n - 2 free values V(3..n) of the gauge."""
        return self.n * (self.n + 1) // 2 + max(self.n - 2, 0)

    def __repr__(self) -> str:
        return super().__repr__().replace("IsingModel", "KPairwiseModel")

    def energy(self, X: Any) -> np.ndarray:
        Xb = as_binary(X, n=self.n, min_rows=0)
        return super().energy(Xb) + self.V[Xb.sum(1, dtype=np.int64)]

    def canonical(self) -> KPairwiseModel:
        """The same distribution with V(0) = V(1) = V(2) = 0: ``a = V(1) - V(0)`` moves into the
        fields and ``b = V(2) - 2 V(1) + V(0)`` into the couplings (module docstring); the
        constant V(0) is dropped, so energies shift by it."""
        V = self.V
        K = np.arange(self.n + 1, dtype=np.float64)
        a = V[1] - V[0] if self.n >= 1 else 0.0
        b = V[2] - 2 * V[1] + V[0] if self.n >= 2 else 0.0
        V2 = V - V[0] - a * K - b * K * (K - 1) / 2
        off = 1.0 - np.eye(self.n)
        return KPairwiseModel(self.J - b * off, self.theta + a, V2, self.fit_info)

    def centred(self) -> KPairwiseModel:
        """The same distribution with the mean coupling and the mean field moved into V:
        ``J_ij -> J_ij - mean_{i<j} J``, ``theta_i -> theta_i - mean theta`` and ``V(K) -> V(K) -
        mean(J) K(K-1)/2 + mean(theta) K - V(0)``. Data pin the uniform parts of J and V only
        through the rare counts K <= 2, so the canonical V(K) of a fit carries their sampling
        error, amplified by K(K-1)/2; compare fitted and true models in this gauge instead."""
        n = self.n
        K = np.arange(n + 1, dtype=np.float64)
        jm = float(self.J[np.triu_indices(n, 1)].mean()) if n >= 2 else 0.0
        tm = float(self.theta.mean())
        V = self.V - self.V[0] - jm * K * (K - 1) / 2 + tm * K
        return KPairwiseModel(self.J - jm * (1.0 - np.eye(n)), self.theta - tm, V, self.fit_info)

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {"V": self.V}

    @classmethod
    def from_pairwise(cls, model: IsingModel, V: Any = None) -> KPairwiseModel:
        """A K-pairwise model with the couplings and fields of ``model`` and potential ``V``
        (default zero: the same distribution)."""
        require_model(model)  # "a" was an AttributeError
        return cls(model.J, model.theta, np.zeros(model.n + 1) if V is None else V, model.fit_info)


def count_energy(model: Any, X: Any) -> np.ndarray:
    """The potential's share ``V(K)`` of the energy of each row of X (zero for pairwise)."""
    Xb = as_binary(X, n=model.n)
    return np.asarray(model.potential)[Xb.sum(1, dtype=np.int64)]
