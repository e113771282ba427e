"""The channel experiment's configuration (TOML ``[channel]`` table)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from infodyn.experiments.config import Section, Seed


class ChannelConfig(Section):
    """``infodyn channel`` config (TOML ``[channel]`` table; every key optional)."""

    n_in: int = Field(100, ge=1, description="input channels")
    n_rec: int = Field(100, ge=2, description="recurrent LIF units")
    n_stimuli: int = Field(4, ge=2, description="stimuli in the frozen set")
    n_steps: int = Field(300, ge=20, description="steps per trial (ms at dt = 1)")
    response_start: int = Field(50, ge=0, description="first scored step of each trial")
    stimulus: Literal["constant", "filtered_noise"] = Field(
        "constant", description="constant rate patterns or filtered-noise rate patterns"
    )
    input_rate_hz: float = Field(20.0, gt=0, description="mean input rate")
    contrast: float = Field(1.0, ge=0, description="filtered-noise modulation depth")
    input_strengths: list[float] = Field(
        default_factory=lambda: [0.5, 1.0, 2.0, 4.0],
        min_length=1,
        description="input weight scales swept (in_scale of the network)",
    )
    rec_scale: float = Field(0.5, ge=0, description="initial recurrent weight scale")
    tau_m: float = Field(20.0, gt=0, description="membrane time constant in ms")
    v_th: float = Field(0.03, gt=0, description="spike threshold")
    n_ref: int = Field(2, ge=0, description="refractory steps")
    r0_hz: float = Field(10.0, gt=0, description="target mean rate")
    rate_weight: float = Field(1e-2, gt=0, description="weight of the per-unit rate target")
    info_weight: float = Field(1.0, gt=0, description="weight of the objective ('info')")
    objective: Literal["infomax", "bottleneck", "decorrelation"] = "infomax"
    gamma: float = Field(0.1, ge=0, description="bottleneck compression weight")
    conditions: list[Literal["rate", "info"]] = Field(
        default_factory=lambda: ["rate", "info"],
        min_length=1,
        description="trainings compared: rate target alone, or with the objective",
    )
    n_iterations: int = Field(150, ge=0, description="training iterations")
    trials_per_stimulus: int = Field(8, ge=1, description="training trials per stimulus")
    test_trials_per_stimulus: int = Field(50, ge=2, description="fresh trials measured")
    lr: float = Field(5e-3, gt=0, description="learning rate (Adam)")
    method: Literal["eprop", "bptt", "bptt_stopgrad"] = "eprop"
    adaptation: bool = Field(False, description="run LIF threshold/gain homeostasis alongside")
    adaptation_rule: Literal["rate", "max_entropy"] = "max_entropy"
    adapt_window_ms: float = Field(20.0, gt=0, description="count window of the adaptation")
    seeds: list[Seed] = Field(
        default_factory=lambda: [0, 1, 2], min_length=1, description="networks per strength"
    )
    bin_steps: int = Field(10, ge=1, description="bin of the response words")
    subset_size: int = Field(8, ge=1, le=20, description="units per response word")
    n_subsets: int = Field(20, ge=1, description="random unit subsets averaged")
    n_shuffles: int = Field(20, ge=1, description="label shuffles of the bias correction")

    @field_validator("input_strengths", "seeds", "conditions")
    @classmethod
    def _distinct(cls, values: list[Any]) -> list[Any]:
        """A repeated value ran the same networks twice and wrote their rows twice."""
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"holds {repeated} more than once; give each value once")
        return values

    @model_validator(mode="after")
    def _fits_the_trials(self) -> ChannelConfig:
        """Keys that only failed once the networks ran, in words that named neither key."""
        if self.stimulus == "constant" and 2.0 * self.input_rate_hz > 1000.0:
            raise ValueError(
                f"input_rate_hz = {self.input_rate_hz:g}: the constant stimuli draw rates up to "
                "2 x input_rate_hz, and a 1-ms step holds one spike: give input_rate_hz <= 500"
            )
        top = 1000.0 / (self.n_ref + 1)  # a spike a 1-ms step, then n_ref refractory steps
        if self.r0_hz > top:  # 5000 Hz trained to a loss of 2.5e5 and exited 0
            raise ValueError(
                f"r0_hz = {self.r0_hz:g} is above the highest rate a unit can fire, "
                f"1000 / (n_ref + 1) = {top:g} Hz at n_ref = {self.n_ref} (one spike a 1-ms step, "
                f"then n_ref refractory steps): give r0_hz <= {top:g}"
            )
        if self.response_start + self.bin_steps > self.n_steps:  # said by run_channel, which
            raise ValueError(  # named neither the file nor the section
                f"response_start + bin_steps = {self.response_start} + {self.bin_steps} must "
                f"fit in n_steps = {self.n_steps}: the scored response starts at response_start "
                "and spans at least one bin"
            )
        if self.adaptation and self.adapt_window_ms > self.n_steps:
            raise ValueError(
                f"adapt_window_ms = {self.adapt_window_ms:g} is longer than a trial (n_steps = "
                f"{self.n_steps} steps of 1 ms): the adaptation counts spikes in windows of a trial"
            )
        return self


class ChannelFile(Section):
    """The ``infodyn channel`` config file: one ``[channel]`` table (:class:`ChannelConfig`)."""

    channel: ChannelConfig = ChannelConfig()
