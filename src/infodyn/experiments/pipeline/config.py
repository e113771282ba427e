"""The pipeline's configuration: one section per stage, every field with a default.

``infodyn images CONFIG.toml`` reads a :class:`PipelineConfig`; :func:`demo_config` and
:func:`quick_config` are the built-in runs of ``infodyn demo``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from infodyn.data.binning import whole_bin_steps
from infodyn.errors import InputError
from infodyn.experiments.config import Section, Seed, build_network, network_errors, validate
from infodyn.experiments.config_paths import PATH_FIELD
from infodyn.experiments.dotted import set_dotted


class ImagesSection(Section):
    """Which images and patches. ``images``: built-in names, files or folders (empty: all)."""

    images: list[str] = Field(
        default_factory=list,
        description="built-in names, image files or folders (empty: every built-in image)",
        json_schema_extra=PATH_FIELD,
    )
    sizes: list[int] = Field(default_factory=lambda: [4, 8], description="patch sides (pixels)")
    n_patches: int = Field(20000, ge=100, description="training patches per size")
    held_out: float = Field(0.25, gt=0, lt=1, description="held-out fraction (by image region)")
    split: Literal["region", "image"] = "region"
    whiten: Literal["none", "zca", "dog"] = "none"
    binarize: Literal["mean", "sign"] = "mean"
    min_contrast: float = Field(0.02, ge=0, description="reject flatter patches (grey std)")
    seed: Seed = Field(0, description="seed of the patches, fits and samples")


class EnergySection(Section):
    """Energy-model fits (both of image patches and of response words; the response-word fit
    uses ``l2 >= 1e-4`` because rarely active units otherwise get unbounded fields)."""

    method: Literal["mpf", "pl", "ml"] = "mpf"
    l2: float = Field(0.0, ge=0, description="coupling penalty l2 sum_{i<j} J_ij^2")
    n_samples: int = Field(2000, ge=10, description="Gibbs samples drawn from each model")
    denoise_flips: list[int] = Field(
        default_factory=lambda: [1, 2, 3], description="bits flipped in each denoising test"
    )
    denoise_patterns: int = Field(300, ge=1, description="held-out patches corrupted")
    pseudocount: float = Field(0.5, gt=0, description="histogram smoothing (4x4 only)")
    ais_chains: int = Field(300, ge=10, description="AIS chains for n > 24")
    ais_betas: int = Field(3000, ge=10, description="AIS temperatures for n > 24")
    max_words_units: int = Field(16, ge=2, le=24, description="units in a response word")
    word_bin_ms: float = Field(5.0, gt=0, description="response-word bin (ms)")


class StimulusSection(Section):
    """Image patches as Poisson input."""

    size: int = Field(4, ge=2, le=12, description="patch side (pixels); 2 size^2 ON/OFF inputs")
    n_stimuli: int = Field(8, ge=2, le=64, description="patches in the stimulus set (readouts)")
    trial_ms: int = Field(200, ge=20, description="trial length in ms (trial_ms / dt steps)")
    response_start_ms: int = Field(50, ge=0, description="start of the scored response window")
    base_rate_hz: float = Field(2.0, ge=0, description="ON/OFF channel rate at zero contrast")
    gain_hz: float = Field(60.0, ge=0, description="rate added at 2 s.d. of contrast (saturates)")
    min_contrast: float = Field(
        0.05,
        ge=0,
        description="contrast floor of the stimulus patches (grey-level s.d.; [images] "
        "min_contrast is the image-energy stage's)",
    )
    drift: float = Field(
        0.0,
        ge=0,
        le=1,
        description="fixational drift: probability per time step ([network] dt) that the "
        "gaze moves one pixel (within size // 2 of the stimulus patch); 0: a still patch",
    )
    seed: Seed = Field(1, description="seed of the patch pool and the stimulus choice")


class TrainingSection(Section):
    """e-prop training toward the target rate, the variance constraint and information."""

    enabled: bool = Field(True, description="false: analyse the untrained network only")
    iterations: int = Field(100, ge=0, description="training iterations")
    batch_size: int = Field(16, ge=1, description="trials per gradient step")
    lr: float = Field(3e-3, gt=0, description="learning rate (Adam)")
    method: Literal["eprop", "bptt", "bptt_stopgrad"] = "eprop"
    rate_target_hz: float = Field(5.0, gt=0, description="target rate of every unit (Hz)")
    rate_weight: float = Field(1e-3, ge=0, description="weight of the rate target (0: off)")
    variance_target: float = Field(0.0, ge=0, description="target global-rate variance (Hz^2)")
    variance_weight: float = Field(1e-6, ge=0, description="weight of the variance term (0: off)")
    info_weight: float = Field(1.0, ge=0, description="weight of the infomax bound (0: off)")
    clip_norm: float = Field(10.0, gt=0, description="global gradient-norm clip")
    seed: Seed = Field(0, description="seed of the weights and training batches")


class AnalysisSection(Section):
    """``[analysis]`` of ``infodyn images``: the fresh trials measured after training."""

    n_trials: int = Field(200, ge=10, description="fresh trials simulated for the analysis")
    branching_bin_ms: float | None = Field(
        None,
        gt=0,
        description="bin of the branching-ratio estimate; None: (n_ref + 1) steps, "
        "so that refractoriness does not make the regression slopes oscillate",
    )
    seed: Seed = Field(7, description="seed of the analysis trials and resampling")


#: the pipeline's ``[network]``: a table given in a config replaces only the keys it names
NETWORK_DEFAULTS: dict[str, Any] = {"n_rec": 100, "tau_m": 20.0, "v_th": 0.03, "n_ref": 2}


class PipelineConfig(Section):
    """The ``infodyn images`` config: every section has defaults."""

    images: ImagesSection = ImagesSection()
    energy: EnergySection = EnergySection()
    stimulus: StimulusSection = StimulusSection()
    network: dict[str, Any] = Field(default_factory=lambda: dict(NETWORK_DEFAULTS))
    training: TrainingSection = TrainingSection()
    analysis: AnalysisSection = AnalysisSection()
    stages: list[Literal["image_energy", "network", "report"]] = Field(
        default_factory=lambda: ["image_energy", "network", "report"],
        min_length=1,  # none ran nothing and printed the path of a report it never wrote
        description="stages run, of 'image_energy', 'network', 'report'",
    )

    @field_validator("network", mode="before")
    @classmethod
    def _network_over_defaults(cls, value: Any) -> Any:
        """The keys given over the pipeline's defaults (``n_rec = 60`` alone replaced the whole
        table: tau_m 30 ms and no refractory period, LIF's defaults, ran unsaid)."""
        return {**NETWORK_DEFAULTS, **value} if isinstance(value, dict) else value

    def stimulus_shape(self) -> dict[str, int]:
        """The ``n_in`` and ``n_out`` that ``[stimulus]`` implies: the ON/OFF channels of a
        patch and one readout per stimulus."""
        return {"n_in": 2 * self.stimulus.size**2, "n_out": self.stimulus.n_stimuli}

    @classmethod
    def section_errors(cls, data: dict[str, Any]) -> str:
        """The bad keys of ``[network]`` over the pipeline's defaults (n_in and n_out, which
        ``[stimulus]`` sets, are compared with it by :meth:`check_sections`)."""
        return network_errors({"network": cls._network_over_defaults(data.get("network", {}))})

    def build_network(self):
        """The network ``[network]`` describes, with n_in and n_out from ``[stimulus]``."""
        return build_network({**self.stimulus_shape(), **self.network})

    def resolved_sections(self) -> dict[str, Any]:
        """``[network]`` with every default of the network model filled in (``config show``
        and the run's config.json listed only the keys set); n_in and n_out stay out unless
        given, as ``[stimulus]`` sets them."""
        section = self.build_network().section()
        for key in self.stimulus_shape():
            if key not in self.network:
                del section[key]
        return {"network": section}

    def check_sections(self) -> None:
        """Validate the free-form ``[network]`` at load time (n_in and n_out default to, and
        must equal, the ON/OFF channels of a stimulus patch and the number of stimuli), and
        what the stages would otherwise find only after the image stage ran."""
        st = self.stimulus
        wanted = self.stimulus_shape()
        net = self.build_network()
        if "network" in self.stages:
            for key, value in wanted.items():
                if self.network.get(key, value) != value:
                    raise InputError(
                        f"[network.{key}] must be {value} for [stimulus] size = {st.size} and "
                        f"n_stimuli = {st.n_stimuli} (or left out), got {self.network[key]!r}"
                    )
            if st.response_start_ms >= st.trial_ms:
                raise InputError(
                    f"[stimulus] response_start_ms ({st.response_start_ms}) must be less than "
                    f"trial_ms ({st.trial_ms})"
                )
            self._check_network_stage(net)
        if "image_energy" in self.stages and not self.images.sizes:
            raise InputError("[images] sizes is empty: give patch sides, or leave out the stage")
        if any(not name.strip() for name in self.images.images):
            raise InputError("[images] images holds an empty name")
        bad = [s for s in self.images.sizes if s < 2]  # 0 failed only once its stage began
        if bad:
            raise InputError(f"[images] sizes must be patch sides >= 2 pixels, got {bad}")
        twice = sorted({s for s in self.images.sizes if self.images.sizes.count(s) > 1})
        if twice:  # --sizes 4,4 fitted the same model twice, its results under one key
            raise InputError(f"[images] sizes lists {twice} more than once")
        if "image_energy" in self.stages:  # refused after the first fit, naming no key
            smallest = min(self.images.sizes) ** 2
            flips = [k for k in self.energy.denoise_flips if not 0 < k < smallest / 2]
            if flips:
                raise InputError(
                    f"[energy] denoise_flips must lie in (0, {smallest / 2:g}) for patches of "
                    f"{smallest} pixels ([images] sizes), got {flips}"
                )
            if self.images.binarize == "sign" and self.images.whiten == "none":
                raise InputError(  # (said by the stage, after the config was taken)
                    "[images] binarize = 'sign' needs whitening (whiten = 'zca' or 'dog'); "
                    "use binarize = 'mean' otherwise"
                )

    def _check_network_stage(self, net: Any) -> None:
        """What the network stage found only after the image stages had run (a partial run
        folder left, naming no key), or never: a branching bin that is no whole number of steps
        was rounded (0.4 ms to 1, 2.5 to 2). ``net``: :meth:`build_network`'s, built once."""
        word = whole_bin_steps(self.energy.word_bin_ms, net.dt, "[energy] word_bin_ms")
        bins = {
            "[analysis] branching_bin_ms": branching_bin_steps(net, self.analysis.branching_bin_ms),
            "[energy] word_bin_ms": word,
        }
        for key, steps in bins.items():  # refused mid-run, in the analysis, naming no key
            if steps * net.dt > self.stimulus.trial_ms:
                raise InputError(
                    f"{key} = {steps * net.dt:g} ms is longer than a trial ([stimulus] "
                    f"trial_ms = {self.stimulus.trial_ms:g}): use a bin of at most a trial"
                )
        st = self.stimulus  # a channel's rate is at most base + gain (2 s.d. of contrast)
        if (st.base_rate_hz + st.gain_hz) * net.dt / 1000.0 > 1.0:
            raise InputError(
                f"[stimulus] base_rate_hz + gain_hz = {st.base_rate_hz + st.gain_hz:g} Hz "
                f"exceeds one spike a step at dt = {net.dt:g} ms ({1000.0 / net.dt:g} Hz)"
            )
        tr = self.training
        if tr.enabled and not (tr.rate_weight or tr.variance_weight or tr.info_weight):
            raise InputError(
                "[training] every loss weight is zero (rate_weight, variance_weight, "
                "info_weight): give one a weight > 0, or enabled = false"
            )


def branching_bin_steps(net: Any, bin_ms: float | None) -> int:
    """Steps a branching-ratio bin holds: ``[analysis] branching_bin_ms`` (a whole number of
    steps) or, ``None``, the refractory period + 1 (finer bins show each unit's refractoriness
    as negative, oscillating slopes r_k). The analysis and the training-time metric use it."""
    bin_ms = bin_ms or (getattr(net, "n_ref", 0) + 1) * net.dt
    return whole_bin_steps(bin_ms, net.dt, "[analysis] branching_bin_ms")


def demo_config() -> PipelineConfig:
    """The short built-in pipeline of ``infodyn demo`` (a few minutes on 2 cores)."""
    return PipelineConfig(
        images=ImagesSection(sizes=[4, 8], n_patches=20000),
        energy=EnergySection(n_samples=2000),
        training=TrainingSection(iterations=150, batch_size=16),
        analysis=AnalysisSection(n_trials=240),
    )


def quick_config() -> PipelineConfig:
    """A quick look (``infodyn demo --quick``): every stage and figure of the demo on a small
    scale (one patch size, 4 stimuli, 40 units, 15 iterations); about 18 s of CPU time."""
    return PipelineConfig(
        images=ImagesSection(sizes=[4], n_patches=2000),
        energy=EnergySection(n_samples=200, denoise_patterns=30, max_words_units=8),
        stimulus=StimulusSection(n_stimuli=4, trial_ms=80, response_start_ms=20),
        network={"n_rec": 40, "tau_m": 20.0, "v_th": 0.03, "n_ref": 2},
        training=TrainingSection(iterations=15, batch_size=8),
        analysis=AnalysisSection(n_trials=32),
    )


def apply_overrides(
    cfg: PipelineConfig,
    images: list[str] | None = None,
    sizes: str | list[int] | None = None,
    iterations: int | None = None,
    train: bool | None = None,
    seed: int | None = None,
) -> PipelineConfig:
    """``cfg`` with command-line options applied (None leaves a value as it is)."""
    data = cfg.model_dump(mode="json")
    enabled = data["training"]["enabled"] if train is None else train
    if iterations is not None and not enabled:  # it analysed the untrained network
        why = "--no-train" if train is False else "the config's [training] enabled = false"
        raise InputError(
            f"--iterations {iterations} with {why}: the network is trained for --iterations, "
            "and it is not trained at all; give one"
        )
    changes: list[tuple[str, dict[str, Any]]] = []  # (option, {config key: value}) as typed
    if images:
        changes.append(("--image", {"images.images": list(images)}))
    if sizes is not None:
        if isinstance(sizes, str):
            try:
                sizes = [int(v) for v in sizes.split(",")]  # "4,,8" is a typo: refused
            except ValueError:
                raise InputError(
                    f"--sizes must be integers separated by commas, got {sizes!r}"
                ) from None
        changes.append(("--sizes", {"images.sizes": list(sizes)}))
    if iterations is not None:
        changes.append(("--iterations", {"training.iterations": int(iterations)}))
    if train is not None:
        changes.append(("--train" if train else "--no-train", {"training.enabled": bool(train)}))
    if seed is not None:
        keys = {"images.seed": int(seed), "training.seed": int(seed), "stimulus.seed": seed + 1}
        changes.append(("--seed", keys))
    for option, keys in changes:  # validated one option at a time: an error names the option
        for key, value in keys.items():  # that made the config invalid, not all of those typed
            set_dotted(data, key, value, source=option)
        cfg = validate(PipelineConfig, data, source=option)
    return cfg
