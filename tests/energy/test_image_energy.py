"""Energy models of binarised natural-image patches (issue 8)."""

from __future__ import annotations

import infodyn as idn


def test_pairwise_model_beats_independent_by_1p5_bits_on_heldout_4x4_patches():
    # n = 16: the likelihood is exact (log Z by enumeration of 2^16 states)
    split = idn.data.natural_patches(
        size=4, n=12000, seed=0, binarize="mean", min_contrast=0.02, held_out=0.25
    )
    model = idn.energy.fit(split.train, method="mpf")
    rep = idn.energy.heldout_report(model, split.train, split.test)
    assert rep["log_z_nats"] == model.log_partition("exact")
    gain = rep["model_test_bits"] - rep["independent_test_bits"]
    assert gain >= 1.5, rep
    assert abs(gain - rep["gain_over_independent_bits"]) < 1e-9
