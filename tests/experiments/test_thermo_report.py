"""The thermodynamic section of the energy report (infodyn.experiments.thermo_report),
checked on an independent model whose entropy is known in closed form."""

import numpy as np
import pytest

from infodyn.energy import IsingModel
from infodyn.experiments.thermo_report import thermo_measures


def test_thermo_measures_of_an_independent_model():
    """J = 0: S(1)/n is the mean binary entropy of p_i = 1 / (1 + e^{theta_i}); n = 10 <= 20 is
    enumerated exactly; the model's Zipf slope is of the samples given."""

    n = 10
    theta = np.linspace(-1.5, 1.5, n)
    model = IsingModel(np.zeros((n, n)), theta)
    p = 1.0 / (1.0 + np.exp(theta))  # P(x_i = 1) under E = theta^T x
    h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    X = model.sample(800, seed=1)
    samples = model.sample(300, seed=2)
    out, hc = thermo_measures(model, X, samples, seed=0)
    # by enumeration (a 31-point integration was 4 % off on an energy run, with an error of 0)
    assert out["entropy_bits_per_unit_T1"] == pytest.approx(h.mean(), rel=1e-12)
    assert out["entropy_err_bits_per_unit"] == 0.0 and out["entropy_method"] == "enumeration"
    assert hc.method == "exact"
    assert out["zipf_model"]["n_words"] == 300 and out["zipf_data"]["n_words"] == 800
