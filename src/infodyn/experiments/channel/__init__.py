"""The channel experiment: how much a trained spiking network says about its stimulus, as a
function of where training put its branching parameter (the channel view of a network: Shannon
1948, Bell Syst. Tech. J. 27:379; at low-rate criticality: Zierenberg, Wilting & Priesemann 2018,
Phys. Rev. X 8:031018).

Pipeline, per input strength ``g`` (the sweep axis), seed and training condition:

1. A frozen stimulus set: K rate patterns ``lambda_s(t, i)`` (filtered-noise rates with
   Adelson & Bergen 1985 kernels, or constant rates); a trial draws fresh Poisson spikes from
   one pattern, so trials of one stimulus differ by noise only.
2. The input weights are scaled by ``g`` and kept fixed; the recurrent weights (and the readout)
   are trained with e-prop toward a fixed mean rate ``r0``. Weaker input must be compensated by
   recurrence, which moves the branching parameter m toward 1 (low-rate criticality, Zierenberg,
   Wilting & Priesemann 2018). Conditions: ``untrained``, ``rate`` (rate target only) and
   ``info`` (the same rate target plus an information objective of
   :mod:`infodyn.learning.info_objectives`).
3. Measures on held-out trials: the mean rate, m and tau from the multistep-regression estimator
   (:func:`infodyn.criticality.branching_ratio`), I(stimulus; response) and the total
   correlation with the discrete estimators of :mod:`infodyn.information` (plug-in, shuffle
   corrected; :func:`~infodyn.information.response_information`), and the Gaussian TC of all units
   (:func:`~infodyn.information.response_gaussian_tc`).

:func:`run_channel` runs the sweep into a run directory (``results.json``, ``table.csv``,
``figures/info_vs_branching.png``, ``figures/before_after.png``).

One module per stage: :mod:`.config` (:class:`ChannelConfig`), :mod:`.training`
(:func:`train_network` -> :class:`TrainResult`), :mod:`.measures` (:func:`network_measures`),
:mod:`.summary` (:func:`summarize`, :func:`channel_figures`) and :mod:`.run` (:func:`run_one`,
:func:`run_channel`). The stimulus set lives in :mod:`infodyn.network.encoders`, the task in
:mod:`infodyn.learning.tasks`, the information measures in :mod:`infodyn.information.responses`.
"""

from infodyn.experiments.channel.config import ChannelConfig, ChannelFile
from infodyn.experiments.channel.measures import gaussian_total_correlation, network_measures
from infodyn.experiments.channel.run import (
    build_channel_network,
    run_channel,
    run_channel_file,
    run_one,
)
from infodyn.experiments.channel.summary import channel_figures, summarize
from infodyn.experiments.channel.training import TrainResult, make_loss, train_network
from infodyn.information.responses import response_information
from infodyn.learning.tasks import StimulusTrials
from infodyn.network.encoders import StimulusSet

__all__ = [
    "ChannelConfig",
    "ChannelFile",
    "StimulusSet",
    "StimulusTrials",
    "TrainResult",
    "build_channel_network",
    "channel_figures",
    "gaussian_total_correlation",
    "make_loss",
    "network_measures",
    "response_information",
    "run_channel",
    "run_channel_file",
    "run_one",
    "summarize",
    "train_network",
]
