"""TOML run configs validated by pydantic.

Each section is a model with defaults, units in the field descriptions, and ``extra="forbid"`` so
an unknown key is an error that names the key. :func:`load_config` reads a TOML file and reports
every problem in one line.

``[network]`` takes the fields of :class:`infodyn.network.LIF` (``model = "alif"``: of
:class:`infodyn.network.ALIF`), ``[input]`` the stimulus, ``[simulation]`` engine and seeds.
Commands that run from a config are in :data:`COMMANDS` (:class:`CommandSpec`); ``infodyn config
show`` and ``infodyn sweep`` work for each; adding one is a :func:`register_command` line.
:func:`resolved` fills in every default (the network's too),
:func:`~infodyn.experiments.toml_write.to_toml` prints it with units.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from infodyn.errors import (
    InputError,
    refuse_beyond_int64,
    refuse_bool_number,
    require_choice,
)
from infodyn.experiments.command_registry import (  # noqa: F401  (their import path)
    BUILT_IN,
    COMMANDS,
    CommandSpec,
    get_command,
    register_command,
)
from infodyn.experiments.config_errors import format_errors
from infodyn.experiments.config_paths import PATH_FIELD, check_config_paths, expand_home
from infodyn.experiments.dotted import set_dotted
from infodyn.experiments.toml_write import to_toml

#: a random seed: a whole number in [0, 2^32 - 1], the range every generator infodyn seeds
#: accepts (Numba's, NumPy's legacy one); -1 or 10^23 failed deep inside them
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class Section(BaseModel):
    """A table of a command's config: unknown keys are errors, every number must be finite
    (``allow_inf_nan=False``: ``lr = inf`` or ``rate_hz = nan`` would fail later, unnamed),
    and ``true``/``false`` is no number (pydantic's lax mode would read it as 1/0)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        return refuse_bool_number(cls.model_fields[info.field_name].annotation, value)

    @field_validator("*", mode="after")
    @classmethod
    def _int64_and_home(cls, value: Any, info: ValidationInfo) -> Any:
        """(After a field's own bounds, which say more.) A path's ``~`` is the home folder, as
        a shell reads it (``spikes = "~/x.h5"`` was a folder named ``~`` here)."""
        extra = cls.model_fields[info.field_name].json_schema_extra
        if isinstance(extra, dict) and extra.get("path"):
            value = expand_home(value)
        return refuse_beyond_int64(value)


class InputConfig(Section):
    """The stimulus. ``kind``: "poisson" (constant rate), "filtered_noise" (Adelson-Bergen
    filtered Gaussian noise driving Poisson generators), or "current" (constant current)."""

    kind: Literal["poisson", "filtered_noise", "current"] = "poisson"
    rate_hz: float = Field(
        50.0, ge=0, description="Poisson rate (mean rate for filtered_noise), Hz"
    )
    contrast: float = Field(0.5, ge=0, description="filtered_noise modulation depth")
    amplitude: float = Field(0.0, description="direct current amplitude (current)")
    n_steps: int = Field(1000, ge=1, description="simulation length in steps")
    seed: Seed = Field(1, description="input seed")


class SimulationConfig(Section):
    """``[simulation]`` of ``infodyn simulate``: engine, JAX precision, weight seed, chunking."""

    engine: Literal["auto", "jax", "event"] = "auto"
    precision: Literal["float32", "float64"] = Field(
        "float32", description="JAX engine precision (the event engine always runs in float64)"
    )
    seed: Seed = Field(0, description="weight initialisation seed")
    params: str | None = Field(
        None,
        description="weights to run, not drawn: a params .npz or a training checkpoint.npz",
        json_schema_extra=PATH_FIELD,
    )
    chunk_steps: int = Field(
        10_000,
        ge=1,
        description="steps per chunk when streaming to disk (JAX engine: each chunk's input and "
        "spikes are dense on the device)",
    )
    checkpoint_seconds: float = Field(
        60.0, ge=0, description="wall seconds between the checkpoints --resume continues from "
        "(0: after every chunk; a signal checkpoints at once)",
    )  # fmt: skip


def network_errors(data: dict[str, Any]) -> str:
    """The ``[network.KEY]`` errors of a config's free-form ``[network]`` as one line (""
    when it builds, or is not a table: the model names that). It is the ``section_errors``
    of config models with such a section, which :func:`validate` reads when the other
    sections fail (:func:`build_network` runs only once they pass)."""
    section = data.get("network", {})
    if not isinstance(section, dict):
        return ""
    try:
        build_network(section)
    except InputError as exc:
        return str(exc)
    return ""


class SimulateConfig(Section):
    """The ``infodyn simulate`` config: ``[network]`` (the model's keyword arguments), ``[input]``
    and ``[simulation]``."""

    network: dict[str, Any] = Field(default_factory=dict)
    input: InputConfig = InputConfig()
    simulation: SimulationConfig = SimulationConfig()

    def build_network(self):
        return build_network(self.network)

    section_errors = staticmethod(network_errors)  # read by validate() when it fails

    def check_sections(self) -> None:
        """Validate the free-form ``[network]`` section (called by :func:`validate`) and the
        input it takes: private inputs are Poisson spikes made chunk by chunk."""
        net = self.build_network()
        if net.input_connectivity == "private":
            if self.input.kind != "poisson":
                raise InputError(
                    f"[input] kind = {self.input.kind!r} with [network] input_connectivity = "
                    "'private': private inputs take kind = 'poisson' (each unit's own Poisson "
                    "source, made chunk by chunk)"
                )
            make_input(self.input, net.n_in, net.dt, private=True)  # its rate, checked

    def resolved_sections(self) -> dict[str, Any]:
        """``[network]`` with every default of the network model filled in."""
        return {"network": self.build_network().section()}


def _network_class(section: dict[str, Any]):
    from infodyn.network import ALIF, LIF

    model = section.get("model", "lif")
    model = model.lower() if isinstance(model, str) else model
    require_choice("[network.model]", model, ("lif", "alif"))
    return ALIF if model == "alif" else LIF


def build_network(section: dict[str, Any], prefix: str = "network"):
    """Build a LIF (or, with ``model = "alif"``, an ALIF) network from a config section.

    Errors name the key as ``[network.KEY]``; an unknown key is reported as such.
    """
    if not isinstance(section, dict):
        raise InputError(f"[{prefix}] must be a table, got {type(section).__name__}")
    cls = _network_class(section)
    fields = {k: v for k, v in section.items() if k != "model"}
    try:
        return cls(**fields)
    except InputError as exc:
        # the network model reports its pydantic errors as one InputError; re-key them
        inner = exc.__context__
        if isinstance(inner, ValidationError):
            raise InputError(format_errors(inner, prefix, cls)) from None
        raise InputError(f"[{prefix}] {exc}") from None


#: peak bytes per input element while each encoder makes it (tracemalloc, 10^7 elements: 17,
#: 32.5 and 4): Poisson (float64 probabilities and draws, a mask, the float32 result), filtered
#: noise (float64 noise, FFT buffers, rates, then the Poisson draws), current (float32)
INPUT_BYTES_PER_ELEMENT = {"poisson": 21, "filtered_noise": 40, "current": 8}


def make_input(
    cfg: InputConfig, n_in: int, dt: float, streamed: bool = False, private: bool = False
) -> Any:
    """The (n_steps, n_in) input array described by ``cfg`` (memory checked first), or with
    ``streamed`` an input function ``x(start, stop)`` that makes it a chunk at a time with the
    same numbers (:mod:`infodyn.network.input_rows`; filtered noise, made for the whole run at
    once, stays an array). ``private`` (n_in = n_rec channels): each unit's own Poisson source,
    always made chunk by chunk (:class:`~infodyn.network.PoissonStream`)."""
    from infodyn.memory import require_memory
    from infodyn.network import encoders
    from infodyn.network.input_rows import ConstantRows, PoissonRows
    from infodyn.network.poisson_stream import PoissonStream

    if private or (streamed and cfg.kind != "filtered_noise"):
        try:
            if private:
                return PoissonStream(cfg.rate_hz, n_in, dt, cfg.seed)
            if cfg.kind == "poisson":
                return PoissonRows(cfg.rate_hz, n_in, dt, cfg.seed)
            return ConstantRows(cfg.amplitude, n_in)
        except InputError as exc:
            raise InputError(f"[input] {exc}") from None
    require_memory(
        INPUT_BYTES_PER_ELEMENT.get(cfg.kind, 64) * cfg.n_steps * n_in,
        f"the input of {cfg.n_steps:,} steps x {n_in:,} channels",
        "run fewer steps or input channels, or simulate from Python with "
        "infodyn.network.simulate_to_file and an input function x(start, stop) that makes one "
        "chunk at a time",
    )

    if cfg.kind == "filtered_noise" and not encoders.kernel_resolved(dt):
        raise InputError(  # (it was said of the kernel's rate a, which no config sets)
            f"[network] dt = {dt:g} ms is too coarse for [input] kind = 'filtered_noise': its "
            f"kernel needs four steps to its peak; use dt <= {encoders.kernel_max_dt():g} ms"
        )
    try:  # the encoders' refusals name their argument: say which table it comes from
        if cfg.kind == "poisson":
            return encoders.poisson_spikes(
                cfg.rate_hz, cfg.n_steps, n_in=n_in, dt=dt, seed=cfg.seed
            )
        if cfg.kind == "filtered_noise":
            return encoders.filtered_noise_spikes(
                cfg.n_steps,
                n_in,
                dt=dt,
                mean_rate=cfg.rate_hz,
                contrast=cfg.contrast,
                seed=cfg.seed,
            )
        return encoders.direct_current(cfg.amplitude, cfg.n_steps, n_in=n_in)
    except InputError as exc:
        raise InputError(f"[input] {exc}") from None


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file, turning a missing or malformed file into one clear error.

    A run's ``config.json`` (the resolved config a run directory records, under its
    ``"config"`` key) is read too, so that ``infodyn images RUN/config.json --out NEW`` reruns
    a run (it was refused as invalid TOML)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such config file")
    if path.suffix.lower() == ".json":
        return _run_record(path)["config"]
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: invalid TOML (arrays or tables nested too deeply)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read config ({exc})") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{path}: invalid TOML ({exc})") from None


#: commands whose runs record a config.json that is another command's config
RECORDED_AS = {"demo": "images"}


def recorded_command(path: str | os.PathLike) -> str | None:
    """The command of the config at ``path`` when it is a run's ``config.json`` (its
    ``"command"``: ``demo``'s is ``images``), else None; a run of a command that takes no
    config (``info``, ``criticality``, ``sweep``, ...) is refused in one line."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.exists():
        return None
    made_by = _run_record(path).get("command")
    if not isinstance(made_by, str):
        return None
    made_by = RECORDED_AS.get(made_by, made_by)
    from infodyn.experiments.plugins import load_plugins

    load_plugins()  # a plugin's command may have made it
    if made_by not in COMMANDS and made_by not in BUILT_IN:
        known = ", ".join(dict.fromkeys([*BUILT_IN, *COMMANDS]))
        raise InputError(
            f"{path}: the record of an `infodyn {made_by}` run, a command that takes no config "
            f"file (its options are recorded there) or a plugin's that is not loaded "
            f"(INFODYN_PLUGINS); configs are for: {known}"
        )
    return made_by


def _run_record(path: Path) -> dict[str, Any]:
    """A run directory's ``config.json`` (:func:`read_toml`), checked to hold a ``"config"``
    table (the settings; their nulls are unset optional keys, as the run had them)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: cannot read it as a run's config.json ({exc})") from None
    config = record.get("config") if isinstance(record, dict) else None
    if not isinstance(config, dict):
        raise InputError(
            f"{path}: a JSON config must be a run's config.json (its settings under 'config'); "
            "write other configs as TOML"
        )
    return record


def validate(
    model: type[BaseModel], data: dict[str, Any], source: str = "config", prefix: str = ""
) -> Any:
    """Validate ``data`` against ``model``; errors name the offending key as ``[section.key]``.

    ``prefix`` is prepended to every key path (e.g. ``"network"``). A model with a
    ``check_sections()`` method gets it called after validation, so free-form sections (the
    network) are checked at load time too.
    """
    if not isinstance(data, dict):
        where = f"{source}: " if source else ""
        raise InputError(f"{where}expected a table of settings, got {type(data).__name__}")
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        message = format_errors(exc, prefix, model)
        # free-form sections ([network]) are checked only once the rest validates: name their
        # bad keys in the same line (one error a run was fixed at a time)
        if hasattr(model, "section_errors"):
            message = "; ".join(filter(None, [model.section_errors(data), message]))
        raise InputError(f"{source}: {message}" if source else message) from None
    if hasattr(obj, "check_sections"):
        try:
            obj.check_sections()
        except InputError as exc:
            raise InputError(f"{source}: {exc}" if source else str(exc)) from None
    return obj


def with_overrides(cfg: BaseModel, updates: dict[str, Any], source: str = "options") -> Any:
    """``cfg`` with dotted keys replaced (``None`` values are left out) and validated again.

    Command-line options that override a config go through here, so the model's declaration
    (its ``Literal`` choices and bounds) is the one check of both the file and the option.
    """
    data = cfg.model_dump(mode="json")
    for key, value in updates.items():
        if value is not None:
            set_dotted(data, key, value, source=source)
    return validate(type(cfg), data, source=source)


def load_config(path: str | os.PathLike, model: type[BaseModel]) -> Any:
    """Read and validate a TOML config file, or a run's config.json (:func:`read_toml`; one of
    another command is refused by name), and check its paths (:func:`check_config_paths`)."""
    made_by = recorded_command(path)  # a run's config.json: which command made it
    mine = [n for n, spec in COMMANDS.items() if spec.config == _reference(model)]
    if made_by and mine and made_by not in mine:
        raise InputError(
            f"{path}: the record of an `infodyn {made_by}` run; rerun it with "
            f"`infodyn {made_by}` (this is `infodyn {mine[0]}`)"
        )
    data = read_toml(path)
    cfg = validate(model, data, source=str(path))
    check_config_paths(cfg, path)
    return cfg


def _reference(model: type) -> str:
    """``"module:Name"`` of a config model, as a :class:`CommandSpec` names it."""
    return f"{model.__module__}:{model.__qualname__}"


# ---------------------------------------------------------------------- resolved configs
def resolved(cfg: BaseModel) -> dict[str, Any]:
    """The config as a plain dict with every default filled in (JSON types).

    Sections that are free-form tables in the model (``[network]``) are expanded through the
    model's ``resolved_sections()``, so the result rebuilds exactly the same run.
    """
    data = cfg.model_dump(mode="json")
    if hasattr(cfg, "resolved_sections"):
        data.update(cfg.resolved_sections())
    return data


def describe_fields(cfg: BaseModel) -> dict[str, str]:
    """Dotted key -> description (with units) for every documented field of ``cfg``."""
    out: dict[str, str] = {}

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            key = f"{prefix}{name}"
            ann = info.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, key + ".")
            elif info.description:
                out[key] = info.description
            elif get_origin(ann) is Literal:
                out[key] = "one of " + ", ".join(repr(a) for a in get_args(ann))

    walk(type(cfg), "")
    if hasattr(cfg, "build_network"):
        net = cfg.build_network()
        walk(type(net), "network.")
        out["network.model"] = "one of 'lif', 'alif' (adaptive thresholds)"
    if hasattr(cfg, "free_form_descriptions"):  # tables the model keeps as plain dicts
        out.update(cfg.free_form_descriptions())
    return out


# ---------------------------------------------------------------------- command registry
def default_config_toml(name: str, overrides: dict[str, Any] | None = None) -> str:
    """Command ``name``'s complete default config as commented TOML (``infodyn config init``
    and the documentation's config reference): every key with its default, units and choices;
    keys without a default hold the spec's ``required_example`` placeholders. ``overrides``
    (dotted keys) replace defaults: ``config init``'s starter values."""
    spec = get_command(name)
    example = dict(spec.required_example)  # placeholders for the keys without a default
    for key, value in (overrides or {}).items():
        set_dotted(example, key, value, source=f"starter {name} config")
    cfg = validate(spec.config_model(), example, source=f"default {name} config")
    data = resolved(cfg)
    net = data.get("network")
    if isinstance(net, dict) and net.get("connectivity") == "dense" and net["p_connect"] == 1.0:
        net["p_connect"] = None  # commented out: "sparse" typed over "dense" then asks for
        # k_in or p_connect (the written 1.0 drew every synapse of a "sparse" network unsaid)
    return to_toml(data, describe_fields(cfg))


def detect_command(data: dict[str, Any], source: str = "config") -> CommandSpec:
    """The registered command a config is for: the one whose model accepts ``data``, else the
    one whose sections match best (its validation error is raised, naming the bad key)."""
    from infodyn.experiments.plugins import load_plugins

    load_plugins()  # a plugin's commands are candidates too
    if not COMMANDS:
        raise InputError("no commands are registered")
    best, best_score = None, -math.inf
    for spec in COMMANDS.values():
        try:
            model = spec.config_model()
        except InputError:  # a command whose module is not installed
            continue
        try:
            validate(model, data)
            return spec
        except InputError:
            fields = set(model.model_fields)
            score = len(set(data) & fields) - len(set(data) - fields)
            if score > best_score:
                best, best_score = spec, score
    if best is None:
        raise InputError("no registered command could be imported")
    validate(best.config_model(), data, source=source)  # raises the informative error
    return best


register_command(
    CommandSpec(
        name="simulate",
        config="infodyn.experiments.config:SimulateConfig",
        run="infodyn.experiments.simulate_run:run_simulation",
        seed_keys=("simulation.seed", "input.seed"),
        summary_metric="mean_rate_hz",
        checkpoint="checkpoint/state.npz",
        batch="infodyn.experiments.simulate_batch:simulate_batch",
    )
)
register_command(
    CommandSpec(
        name="train",
        config="infodyn.experiments.train_run:TrainConfig",
        run="infodyn.experiments.train_run:run_training",
        seed_keys=("training.seed", "training.feedback_seed"),
        summary_metric="final_loss",
        checkpoint="checkpoint.npz",
    )
)
register_command(
    CommandSpec(
        name="energy",
        config="infodyn.experiments.energy_run:EnergyRunConfig",
        run="infodyn.experiments.energy_run:run_energy",
        seed_keys=("seed",),
        summary_metric="heldout.model_test_bits",
        required_example=(("spikes", "spikes.h5"),),
    )
)
register_command(
    CommandSpec(
        name="images",
        config="infodyn.experiments.pipeline:PipelineConfig",
        run="infodyn.experiments.pipeline:run_pipeline",
        seed_keys=("images.seed", "training.seed", "stimulus.seed"),
        checkpoint="progress.json",  # a point cut off earlier continues (it was refused)
    )
)
register_command(
    CommandSpec(
        name="channel",
        config="infodyn.experiments.channel:ChannelFile",
        run="infodyn.experiments.channel:run_channel_file",
        checkpoint="progress.json",
        summary_metric="means.info.mi_bits",
    )
)
