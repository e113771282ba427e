"""The main pipeline: natural images -> spiking network -> learning -> analysis -> energy model.

:func:`run_pipeline` runs, into one run directory:

1. **Energy model of image patches** (for each patch size in ``[images] sizes``): binarised
   patches (:func:`infodyn.data.natural_patches`, held out by image region), a pairwise model
   fitted by minimum probability flow (:func:`infodyn.energy.fit`), held-out bits per patch
   against the independent model and, for 4x4 (2^16 states), against the empirical histogram
   smoothed by ``pseudocount`` (``p(x) = (c(x) + a) / (M + a 2^n)``); memories (fixed points of
   asynchronous descent), their number and minimum Hamming distance; denoising of held-out
   patches corrupted by k flips; Gibbs samples shown as image patches beside real ones.
2. **Network driven by images**: ``n_stimuli`` natural patches (grey levels) drive ``2 size^2``
   ON/OFF Poisson channels, ``rate = base + gain * clip(+-c, 0, 2) / 2`` with ``c`` the patch's
   contrast ``(g - mean g) / std g``; one patch per trial of ``trial_ms``. The LIF network is
   trained with e-prop (``infodyn.learning``) on a per-unit target rate, the
   global-rate variance constraint and the information objective (a variational lower bound on
   I(stimulus; response) through a softmax readout: ``H(S) - CE``, H(S) = log2 K for uniformly
   drawn stimuli).
3. **Analysis of its responses** before and after training, on fresh trials: rates; branching
   ratio by multistep regression (:func:`infodyn.criticality.branching_ratio`), avalanches at
   the mean inter-event interval with discrete power-law fits; the information the readout's
   decisions carry about the stimulus (plug-in, bias- and shuffle-corrected) and the multivariate
   information (total correlation, O-information) of the binary response words.
4. **Energy model of the response words** (phase space): MPF fit to binary words of the most
   active units, its memories, the energy along trajectories, the memory transition matrix and
   memory-triggered average patches (the mean stimulus patch at the onsets of each memory).
5. ``report.html`` with every figure and number (:mod:`infodyn.experiments.report`).

No number is made up: a stage that fails or is switched off is listed in ``results["notes"]``.

One module per stage, each a function from typed inputs to a typed result:
:mod:`.config` (:class:`PipelineConfig`), :mod:`.image_stage` (:class:`ImageEnergyResult`),
:mod:`.stimulus_stage` (:class:`Stimuli`), :mod:`.training_stage` (:class:`TrainingOutcome`),
:mod:`.analysis` (:class:`ResponseAnalysis`), :mod:`.response_energy`, :mod:`.network_stage`
(stages 2-4 together), :mod:`.summary` (headline, captions), :mod:`.figures` and :mod:`.run`
(:func:`run_pipeline`). The science they use lives in the library: ON/OFF encoding in
:mod:`infodyn.network.encoders`, the patch task in :mod:`infodyn.learning.tasks`, posterior
denoising in :mod:`infodyn.energy.denoise`, the smoothed histogram in
:mod:`infodyn.energy.density`.
"""

from infodyn.energy.denoise import denoising_rows, posterior_descent
from infodyn.experiments.pipeline.analysis import ResponseAnalysis, analyse_responses
from infodyn.experiments.pipeline.config import (
    AnalysisSection,
    EnergySection,
    ImagesSection,
    PipelineConfig,
    StimulusSection,
    TrainingSection,
    apply_overrides,
    demo_config,
    quick_config,
)
from infodyn.experiments.pipeline.image_stage import ImageEnergyResult, image_energy_stage
from infodyn.experiments.pipeline.network_stage import network_stage
from infodyn.experiments.pipeline.run import run_pipeline
from infodyn.experiments.pipeline.stimulus_stage import Stimuli, stimulus_stage
from infodyn.experiments.pipeline.summary import headline, summary_lines
from infodyn.experiments.pipeline.training_stage import (
    Progress,
    TrainingOutcome,
    training_loss,
    training_stage,
)
from infodyn.learning.tasks import PatchTask
from infodyn.network.encoders import encode_patches

__all__ = [
    "AnalysisSection",
    "EnergySection",
    "ImageEnergyResult",
    "ImagesSection",
    "PatchTask",
    "PipelineConfig",
    "Progress",
    "ResponseAnalysis",
    "Stimuli",
    "StimulusSection",
    "TrainingOutcome",
    "TrainingSection",
    "analyse_responses",
    "apply_overrides",
    "demo_config",
    "denoising_rows",
    "encode_patches",
    "headline",
    "image_energy_stage",
    "network_stage",
    "posterior_descent",
    "quick_config",
    "run_pipeline",
    "stimulus_stage",
    "summary_lines",
    "training_loss",
    "training_stage",
]
