"""The spiking network: LIF/ALIF config, weights, encoders, and two engines (JAX, event-driven)."""

from infodyn.network.encoders import (
    StimulusSet,
    adelson_bergen_kernel,
    direct_current,
    encode_patches,
    filtered_noise_rates,
    filtered_noise_spikes,
    poisson_spikes,
)
from infodyn.network.input_rows import ConstantRows, PoissonRows
from infodyn.network.model import ALIF, LIF
from infodyn.network.params_file import load_params, save_params
from infodyn.network.poisson_stream import PoissonStream
from infodyn.network.simulate import Trace, simulate, simulate_spikes, simulate_to_file
from infodyn.network.sparse import SparseWeights
from infodyn.network.sparse_current import recurrent_current

__all__ = [
    "ALIF",
    "ConstantRows",
    "LIF",
    "PoissonRows",
    "PoissonStream",
    "SparseWeights",
    "StimulusSet",
    "Trace",
    "adelson_bergen_kernel",
    "direct_current",
    "encode_patches",
    "filtered_noise_rates",
    "filtered_noise_spikes",
    "load_params",
    "poisson_spikes",
    "recurrent_current",
    "save_params",
    "simulate",
    "simulate_spikes",
    "simulate_to_file",
]
