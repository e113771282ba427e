"""Network configuration objects: validated LIF and ALIF recurrent networks with leaky readouts.

Discrete-time dynamics (Seitz 2021, the deck's "Leaky integrate and fire neurons"; Bellec et
al. 2020, Nat. Commun. 11:3625, Methods: the LIF and ALIF network models), step ``dt`` ms,
for t = 0..T-1 starting from ``v = z = a = y = 0``::

    a[t] = rho * a[t-1] + z[t-1]                                   (ALIF units only)
    v[t] = alpha * v[t-1] + W_rec^T z[t-1] + s_in * W_in^T x[t] - v_th * z[t-1]
    A[t] = v_th + beta * a[t]                                      (A = v_th for LIF units)
    z[t] = H(v[t] - A[t])        and 0 for n_ref steps after a spike (refractory period)
    y[t] = kappa * y[t-1] + s_out * W_out^T z[t]

with ``alpha = exp(-dt/tau_m)``, ``rho = exp(-dt/tau_a)``, ``kappa = exp(-dt/tau_out)``.
``s_in`` is 1 (``input_scaling="none"``, the convention of Seitz 2021, default) or ``1 - alpha``
(``"one_minus_alpha"``, the e-prop reference code); ``s_out`` is 1 or ``1 - kappa``.
The reset is subtractive and W_rec has a zero diagonal (no autapses).

Weights are a dict of arrays: ``w_in`` (n_in, n_rec), ``w_rec`` (n_rec, n_rec) with
``w_rec[i, j]`` the synapse from unit i onto unit j, and ``w_out`` (n_rec, n_out).
``input_connectivity="private"`` gives each unit its own input channel through one synapse
(Brunel 2000, section 2: the external Poisson drive): ``n_in = n_rec`` and ``w_in`` the diagonal
:class:`~infodyn.network.sparse.SparseWeights` of weight ``in_scale v_th / s_in``; drive it with
:class:`~infodyn.network.PoissonStream`.

Connectivity (``connectivity=``):

- ``"dense"``: all-to-all without autapses; Gaussian weights ``N(0, rec_scale^2 v_th^2 / n_rec)``.
- ``"sparse"``: each synapse present with probability ``p_connect``; Gaussian weights
  ``N(0, rec_scale^2 v_th^2 / (p_connect n_rec))``.
- ``"ei"``: the author's excitatory/inhibitory network: a fraction ``frac_exc`` (0.8) of units
  excitatory, lognormal magnitudes (mu = -0.64, sigma = 0.5), inhibitory magnitudes times
  ``inh_factor`` (5), connection probabilities ``p_ee, p_ei, p_ie, p_ii`` where ``p_xy`` is the
  probability that a unit of type x projects onto a unit of type y (0.16, 0.244, 0.318, 0.343),
  and Dale's law: every outgoing weight of an excitatory unit is >= 0, of an inhibitory unit <= 0.
  Magnitudes are multiplied by ``rec_scale * v_th`` so they are in units of the threshold, and
  divided by the mean in-degree (the drawn one without autapses, or K with ``k_in``) so that
  the mean input a unit receives does not grow with ``n_rec``.

Fixed in-degree (``k_in=K``, with ``"sparse"`` or ``"ei"``; Brunel 2000): every unit receives
exactly K recurrent synapses from K distinct other units (E/I: ``round(frac_exc K)`` from
excitatory and the rest from inhibitory units); Gaussian weights ``N(0, rec_scale^2 v_th^2 / K)``,
or E/I magnitudes divided by K. See :mod:`infodyn.network.connectivity` for how the graphs are
drawn.

Storage of ``w_rec`` (``weights=``): ``"dense"`` an (n_rec, n_rec) array; ``"sparse"`` a
:class:`~infodyn.network.sparse.SparseWeights` holding only the synapses (8 bytes a synapse in
float32, never an N x N array); ``"auto"`` (default) is sparse when ``k_in`` is given or when a
``"sparse"``/``"ei"`` network has more than ``AUTO_SPARSE_MIN_UNITS`` (4096) units, dense
otherwise. Dense and all-to-all networks therefore keep their historic draw, number for number
(a dense ``"ei"`` draw's divisor no longer counts the autapses it then removes: its weights are
larger by that count's share, 10 % at 10 units, 0.1 % at 1,000).
The sparse draw of a Bernoulli (``p_connect`` or ``p_xy``) graph is a different realisation of
the same distribution than the dense draw; a ``k_in`` graph is the same in both storages
(``weights="dense"`` densifies it).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from infodyn.errors import (
    InputError,
    as_array,
    make_rng,
    refuse_beyond_int64,
    refuse_bool_number,
    require,
    require_finite,
)
from infodyn.network import connectivity as graphs  # its name is also a field here
from infodyn.network.connectivity import (
    EI_PROBABILITIES,
    dense_recurrent,
    ei_split,
    sparse_recurrent,
)
from infodyn.network.engine_jax import check_precision
from infodyn.network.simulate import simulate
from infodyn.network.sparse import SparseWeights, constrain_sparse
from infodyn.network.sparse_checks import check_sparse
from infodyn.network.weights_memory import weights_advice, weights_preflight

Array = Any

#: with ``weights="auto"``, sparse and E/I networks of more units than this get SparseWeights
#: (a dense float64 w_rec of 4096 units is 128 MiB); smaller ones keep the dense draw
AUTO_SPARSE_MIN_UNITS = 4096


#: the E/I connection probabilities (k_in replaces them)
#: options of the E/I connectivity only
_EI_OPTIONS = ("frac_exc", "ei_mu", "ei_sigma", "inh_factor", *EI_PROBABILITIES)


class LIF(BaseModel):
    """A recurrent network of leaky integrate-and-fire units with leaky readouts.

    Example::

        net = idn.network.LIF(n_in=100, n_rec=100, n_out=1, tau_m=30.0, v_th=0.03)
        params = net.init(seed=0)
        trace = net.simulate(params, x)          # x: (T, n_in) or (B, T, n_in)
    """

    # allow_inf_nan=False: every float setting must be finite (rec_scale=inf drew inf weights)
    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        """``n_rec = true`` is refused (pydantic's lax mode reads it as 1)."""
        return refuse_bool_number(cls.model_fields[info.field_name].annotation, value)

    @field_validator("*", mode="after")
    @classmethod
    def _int64(cls, value: Any) -> Any:
        """``n_rec = 10^20`` is refused by key (after the field's own bounds, which say more)."""
        return refuse_beyond_int64(value)

    n_in: int = Field(100, ge=1, description="number of input channels")
    n_rec: int = Field(100, ge=1, description="number of recurrent units")
    n_out: int = Field(1, ge=0, description="number of leaky readout units")
    dt: float = Field(1.0, gt=0, description="time step in ms")
    tau_m: float = Field(30.0, gt=0, description="membrane time constant in ms")
    tau_out: float = Field(30.0, gt=0, description="readout time constant in ms")
    v_th: float = Field(0.03, gt=0, description="spike threshold")
    n_ref: int = Field(  # the JAX engine counts it down in float32: exact up to 2^24
        0, ge=0, le=2**24, description="refractory period in steps (at most 2^24)"
    )
    input_scaling: Literal["none", "one_minus_alpha"] = "none"
    readout_scaling: Literal["none", "one_minus_kappa"] = "none"
    surrogate: Literal["triangle", "fast_sigmoid", "arctan", "exponential"] = "triangle"
    gamma: float = Field(0.3, gt=0, description="surrogate dampening factor")
    connectivity: Literal["dense", "sparse", "ei"] = "dense"
    p_connect: float = Field(1.0, gt=0, le=1, description="connection probability (sparse)")
    k_in: int | None = Field(
        None, ge=1, description="fixed in-degree: recurrent synapses onto each unit (sparse, ei)"
    )
    weights: Literal["auto", "dense", "sparse"] = Field(
        "auto", description="storage of w_rec from init: dense array or SparseWeights"
    )
    in_scale: float = Field(
        1.0, ge=0, description="input weight scale (x v_th / sqrt(n_in); private: x v_th)"
    )
    input_connectivity: Literal["dense", "private"] = Field(
        "dense",
        description="w_in from init: every input onto every unit (dense), or input i onto unit "
        "i only (private, n_in = n_rec: Brunel's external drive)",
    )
    rec_scale: float = Field(1.0, ge=0, description="recurrent weight scale")
    out_scale: float = Field(1.0, ge=0, description="readout weight scale")
    frac_exc: float = Field(0.8, gt=0, lt=1, description="fraction of excitatory units (ei)")
    ei_mu: float = Field(-0.64, description="mean of the log weight magnitude (ei, lognormal)")
    ei_sigma: float = Field(
        0.5,
        ge=0,
        description="s.d. of the log weight magnitude (ei; 0: every magnitude exp(ei_mu))",
    )
    inh_factor: float = Field(5.0, gt=0, description="inhibitory magnitude factor (ei)")
    p_ee: float = Field(0.16, ge=0, le=1, description="probability E -> E (ei, without k_in)")
    p_ei: float = Field(0.244, ge=0, le=1, description="probability E -> I (ei, without k_in)")
    p_ie: float = Field(0.318, ge=0, le=1, description="probability I -> E (ei, without k_in)")
    p_ii: float = Field(0.343, ge=0, le=1, description="probability I -> I (ei, without k_in)")

    @model_validator(mode="before")
    @classmethod
    def _private_inputs_default(cls, data: Any) -> Any:
        """With private inputs ``n_in`` defaults to ``n_rec`` (one input channel a unit)."""
        if isinstance(data, dict) and data.get("input_connectivity") == "private":
            if "n_in" not in data and "n_rec" in data:
                data = {**data, "n_in": data["n_rec"]}
        return data

    @model_validator(mode="after")
    def _check_private_inputs(self) -> LIF:
        if self.input_connectivity == "private" and self.n_in != self.n_rec:
            raise ValueError(
                f"input_connectivity 'private' gives each unit its own input channel: n_in must "
                f"equal n_rec, got n_in = {self.n_in} and n_rec = {self.n_rec} (leave n_in out, "
                "or where the input's width sets n_in, set n_rec to it)"
            )
        return self

    @model_validator(mode="after")
    def _check_connectivity_options(self) -> LIF:
        """An option of another connectivity was ignored without a word (``p_connect=0.1`` with
        the default dense connectivity gave an all-to-all network): refuse it."""
        if self.p_connect != 1.0 and self.connectivity != "sparse":
            hint = " (E/I uses p_ee, p_ei, p_ie, p_ii)" if self.connectivity == "ei" else ""
            raise ValueError(
                f"p_connect is for connectivity 'sparse', not {self.connectivity!r}{hint}"
            )
        if self.connectivity != "ei":
            changed = self._non_default(_EI_OPTIONS)
            if changed:
                raise ValueError(
                    f"{', '.join(changed)} {'is' if len(changed) == 1 else 'are'} for "
                    f"connectivity 'ei', not {self.connectivity!r}"
                )
        if (
            self.connectivity == "sparse"
            and self.k_in is None
            and "p_connect" not in self.model_fields_set
        ):  # drew every synapse: 4 x 10^8 at 2 x 10^4 units, 9.8 GB and 85 s, without a word
            raise ValueError(
                "connectivity 'sparse' needs k_in (each unit receives exactly K synapses) or "
                "p_connect (each synapse present with that probability); with neither it would "
                f"draw all {self.n_rec * (self.n_rec - 1):,} synapses of n_rec = {self.n_rec:,} "
                "units (give p_connect = 1.0 for that all-to-all network)"
            )
        return self

    @model_validator(mode="after")
    def _check_ei_split(self) -> LIF:
        if self.connectivity == "ei" and not 1 <= self.n_exc <= self.n_rec - 1:
            raise ValueError(  # frac_exc = 0.01 of 5 units made every unit inhibitory
                f"frac_exc={self.frac_exc} of n_rec={self.n_rec} units gives {self.n_exc} "
                "excitatory units (round(frac_exc n_rec)): an E/I network needs both kinds"
            )
        return self

    @model_validator(mode="after")
    def _check_scales(self) -> LIF:
        """A ``1 - alpha`` (or ``1 - kappa``) scaling that float64 rounds to 0: ``init`` drew
        infinite input weights (refused as NaN or inf weights the user never wrote) and a
        readout scaled by 0 stayed 0."""
        for scaling, tau, name in (
            (self.input_scaling == "one_minus_alpha", self.tau_m, "tau_m"),
            (self.readout_scaling == "one_minus_kappa", self.tau_out, "tau_out"),
        ):
            if scaling and 1.0 - math.exp(-self.dt / tau) == 0.0:
                raise ValueError(
                    f"{name} / dt = {tau / self.dt:.3g}: exp(-dt/{name}) rounds to 1 in float64, "
                    f"so the 1 - exp(-dt/{name}) scaling is 0; give a shorter {name} or the "
                    "scaling 'none'"
                )
        return self

    @model_validator(mode="after")
    def _check_k_in(self) -> LIF:
        if self.k_in is None:
            return self
        if self.connectivity == "dense":
            raise ValueError("k_in needs connectivity 'sparse' or 'ei'")
        if self.p_connect != 1.0:
            raise ValueError("give p_connect or k_in, not both")
        probs = self._non_default(EI_PROBABILITIES)
        if probs:  # were ignored without a word: k_in draws frac_exc of the K from E units
            raise ValueError(
                f"give {', '.join(probs)} or k_in, not both (with k_in every unit receives "
                "round(frac_exc k_in) excitatory synapses and the rest inhibitory)"
            )
        if self.connectivity == "sparse" and self.k_in > self.n_rec - 1:
            raise ValueError(f"k_in={self.k_in} exceeds the n_rec - 1 = {self.n_rec - 1} others")
        if self.connectivity == "ei" and not self._ei_in_degree_fits(self.k_in):
            k_e, k_i = ei_split(self.k_in, self.frac_exc)
            n_e = self.n_exc
            n_i = self.n_rec - n_e  # a unit's inputs come from the others of its kind
            why = f"a unit has at most {n_e - 1} excitatory and {n_i - 1} inhibitory other units"
            below = range(min(self.k_in, self.n_rec) - 1, 0, -1)
            if fit := next((k for k in below if self._ei_in_degree_fits(k)), None):
                why += f"; the largest k_in that fits is {fit}"
            if min(k_e, k_i) == 0:  # k_in = 1 gave every unit one E input and no I input
                why = "an E/I network needs both kinds; raise k_in"
            if min(n_e, self.n_rec - n_e) < 2:  # no k_in fits: inputs come from other units
                why = "each kind needs 2 units or more (inputs come from other units)"
            raise ValueError(
                f"k_in={self.k_in} needs {k_e} excitatory + {k_i} inhibitory inputs from "
                f"other units; {why}"
            )
        return self

    def _ei_in_degree_fits(self, k: int) -> bool:
        """Whether every unit of this E/I network can receive ``k`` synapses: round(frac_exc k)
        from the other excitatory units and the rest from the other inhibitory ones."""
        k_e, k_i = ei_split(k, self.frac_exc)
        return 1 <= k_e <= self.n_exc - 1 and 1 <= k_i <= self.n_rec - self.n_exc - 1

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InputError(_format_validation(type(self).__name__, exc)) from None

    # ------------------------------------------------------------------ derived constants
    @property
    def alpha(self) -> float:
        return math.exp(-self.dt / self.tau_m)

    @property
    def kappa(self) -> float:
        return math.exp(-self.dt / self.tau_out)

    @property
    def rho(self) -> float:
        return 0.0

    @property
    def beta(self) -> float:
        return 0.0

    @property
    def n_adaptive(self) -> int:
        return 0

    @property
    def input_scale(self) -> float:
        return 1.0 - self.alpha if self.input_scaling == "one_minus_alpha" else 1.0

    @property
    def readout_scale(self) -> float:
        return 1.0 - self.kappa if self.readout_scaling == "one_minus_kappa" else 1.0

    def beta_vector(self) -> np.ndarray:
        """Per-unit adaptation strength: ``beta`` for the last ``n_adaptive`` units, else 0."""
        b = np.zeros(self.n_rec)
        if self.n_adaptive:
            b[self.n_rec - self.n_adaptive :] = self.beta
        return b

    @property
    def n_exc(self) -> int:
        """Number of excitatory units (E/I networks: the first ``n_exc`` units)."""
        if self.connectivity != "ei":
            return self.n_rec
        return int(round(self.frac_exc * self.n_rec))

    def unit_signs(self) -> np.ndarray | None:
        """+1 for excitatory and -1 for inhibitory units under Dale's law, else None."""
        if self.connectivity != "ei":
            return None
        s = np.ones(self.n_rec)
        s[self.n_exc :] = -1.0
        return s

    # ------------------------------------------------------------------ weights
    @property
    def sparse_weights(self) -> bool:
        """Whether :meth:`init` returns ``w_rec`` as :class:`SparseWeights` (module docstring):
        ``weights="sparse"``, or ``"auto"`` with ``k_in`` given or with a ``"sparse"``/``"ei"``
        network of more than :data:`AUTO_SPARSE_MIN_UNITS` units."""
        if self.weights != "auto":
            return self.weights == "sparse"
        if self.k_in is not None:
            return True
        return self.connectivity != "dense" and self.n_rec > AUTO_SPARSE_MIN_UNITS

    def init(self, seed: int = 0, precision: str = "float64") -> dict[str, Any]:
        """Draw initial weights ``{"w_in", "w_rec", "w_out"}`` (NumPy arrays of ``precision``).

        ``w_in ~ N(0, (in_scale * v_th / s_in)^2 / n_in)`` (``s_in = 1 - alpha`` under
        ``input_scaling="one_minus_alpha"``, else 1), so that one input spike moves v by about
        ``in_scale * v_th / sqrt(n_in)`` (private inputs: ``in_scale * v_th / s_in`` on the
        diagonal);
        ``w_out ~ N(0, out_scale^2 / n_rec)``;
        ``w_rec`` follows ``connectivity`` (module docstring) and has no autapses; it is a
        :class:`SparseWeights` when :attr:`sparse_weights` holds. Before drawing, the memory the
        weights need is checked (:func:`infodyn.memory.require_memory`).
        """
        check_precision(precision)
        dtype = np.dtype(precision)
        weights_preflight(self, dtype)
        rng = make_rng(seed)
        n_in, n = self.n_in, self.n_rec
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, in one line
            if self.input_connectivity == "private":
                w_in = graphs.private_inputs(n, self.in_scale * self.v_th / self.input_scale, dtype)
            else:
                w_in = rng.standard_normal((n_in, n)) * self.in_scale * self.v_th / math.sqrt(n_in)
                w_in = (w_in / self.input_scale).astype(dtype, copy=False)
            if self.sparse_weights or self.k_in is not None:
                w_rec = sparse_recurrent(self, rng, dtype)
                if not self.sparse_weights:
                    w_rec = w_rec.to_dense()
            else:
                w_rec = dense_recurrent(self, rng).astype(dtype, copy=False)
            w_out = rng.standard_normal((n, self.n_out)) * self.out_scale / math.sqrt(n)
            params = {"w_in": w_in, "w_rec": w_rec, "w_out": w_out.astype(dtype, copy=False)}
        for key, w in params.items():  # finite settings whose product is not (v_th = 1e308)
            values = w.values if isinstance(w, SparseWeights) else w
            require(  # min and max (NaN propagates): no N x N mask beside the weights
                values.size == 0 or bool(np.isfinite(values.min()) and np.isfinite(values.max())),
                f"the drawn {key} overflows {dtype.name}: in_scale, rec_scale, out_scale and "
                f"v_th (here {self.in_scale:g}, {self.rec_scale:g}, {self.out_scale:g}, "
                f"{self.v_th:g}) scale the weights; use smaller ones",
            )
        return params

    def section(self) -> dict[str, Any]:
        """The ``[network]`` config section that rebuilds this network: ``model`` ("lif" or
        "alif") and every field, in JSON types (what run records keep as their network)."""
        return {
            "model": "alif" if isinstance(self, ALIF) else "lif",
            **self.model_dump(mode="json"),
        }

    def memory_advice(self) -> str:
        """What to change to make this network's weights smaller: the advice for its largest
        matrix that the check before :meth:`init` gives (which a validator would not refuse)."""
        return weights_advice(self)

    def _non_default(self, keys: tuple[str, ...]) -> list[str]:
        """Those of ``keys`` whose value is not the field's default."""
        fields = type(self).model_fields
        return [k for k in keys if getattr(self, k) != fields[k].default]

    def validate_params(self, params: dict[str, Array]) -> None:
        """Raise :class:`InputError` unless ``params`` has the right keys, shapes and values
        (``w_rec`` and ``w_in`` may be dense or :class:`SparseWeights`)."""
        if not hasattr(params, "keys") or not hasattr(params, "__getitem__"):
            raise InputError(
                f"params must be a dict of weights (net.init(seed) or load_params), got "
                f"{type(params).__name__}"
            )
        expected = {
            "w_in": (self.n_in, self.n_rec),
            "w_rec": (self.n_rec, self.n_rec),
            "w_out": (self.n_rec, self.n_out),
        }
        missing = set(expected) - set(params)
        if missing:
            raise InputError(f"params is missing {sorted(missing)}")
        for key, shape in expected.items():
            if isinstance(params[key], SparseWeights):
                if key == "w_out":
                    raise InputError("params['w_out'] must be a dense array")
                check_sparse(params[key], shape, f"params[{key!r}]")
                continue
            got = tuple(np.shape(params[key]))
            if got != shape:
                raise InputError(f"params[{key!r}] must have shape {shape}, got {got}")
            a = as_array(params[key], f"params[{key!r}]")
            if a.dtype.kind not in "iuf":  # objects gave NaN voltages, complex lost a part
                raise InputError(f"params[{key!r}] must hold real numbers, got dtype {a.dtype}")
            require_finite(f"params[{key!r}]", a)

    def constrain(self, params: dict[str, Array], mask: Array | None = None) -> dict[str, Array]:
        """Project weights back onto the constraints: zero diagonal, connectivity ``mask`` and,
        for E/I networks, Dale's law (clip wrong-signed outgoing weights to 0).

        For a :class:`SparseWeights` ``w_rec`` only its values change (the pattern is the
        connectivity); ``mask``, if given, is then a (nnz,) array multiplying the values. Masks
        hold 0 and 1 (0.5 scaled every weight).
        """
        ok = isinstance(params, dict) and "w_rec" in params  # a KeyError, or a TypeError
        require(ok, f"params must be net.init()'s dict of weights, got {type(params).__name__}")
        w = params["w_rec"]
        mask = graphs.checked_mask(self, w, mask)
        if isinstance(w, SparseWeights):
            return {**params, "w_rec": constrain_sparse(w, self.unit_signs(), mask)}
        xp = np if isinstance(w, np.ndarray) else jnp  # NumPy stays NumPy, in its dtype (JAX
        w = w * (1.0 - xp.eye(self.n_rec, dtype=w.dtype))  # cut float64 to float32 unless its
        if mask is not None:  # 64-bit mode happened to be on)
            w = w * xp.asarray(mask, w.dtype)
        signs = self.unit_signs()
        if signs is not None:
            s = xp.asarray(signs, dtype=w.dtype)[:, None]
            w = s * xp.maximum(s * w, 0.0)
        return {**params, "w_rec": w}

    # ------------------------------------------------------------------ simulation
    def simulate(self, params: dict[str, Array], x: Array, engine: str = "auto", **kwargs: Any):
        """Run the network on input ``x`` ((T, n_in) or (B, T, n_in)); see
        :func:`infodyn.network.simulate` for ``engine`` and options."""
        return simulate(self, params, x, engine=engine, **kwargs)


class ALIF(LIF):
    """A LIF network whose last ``n_alif`` units have adaptive thresholds (ALIF).

    ``a[t] = rho a[t-1] + z[t-1]``, ``A[t] = v_th + beta a[t]``, ``rho = exp(-dt/tau_a)``
    (Bellec et al. 2018, 2020). ``n_alif=None`` (default) makes every unit adaptive; the
    property ``n_adaptive`` gives the count either way.
    """

    tau_a: float = Field(2000.0, gt=0, description="adaptation time constant in ms")
    beta_a: float = Field(0.05, ge=0, description="threshold increase per spike (v units)")
    n_alif: int | None = Field(None, ge=0, description="adaptive units (the last n_alif)")

    @model_validator(mode="after")
    def _check_alif(self) -> ALIF:
        if self.n_alif is not None and self.n_alif > self.n_rec:
            raise ValueError(f"n_alif={self.n_alif} exceeds n_rec={self.n_rec}")
        return self

    @property
    def rho(self) -> float:
        return math.exp(-self.dt / self.tau_a)

    @property
    def beta(self) -> float:
        return self.beta_a

    @property
    def n_adaptive(self) -> int:
        return self.n_rec if self.n_alif is None else self.n_alif


def _format_validation(name: str, exc: Any) -> str:
    parts = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err["loc"])  # none for the whole config's checks
        parts.append(f"{loc}: {msg}" if loc else msg)  # "invalid LIF config: LIF: ..."
    return f"invalid {name} config: " + "; ".join(parts)
