"""Helpers of the gradient estimators (infodyn.learning.gradients): the random feedback matrix
of random e-prop and the global gradient norm."""

import numpy as np
import pytest

from infodyn.learning.gradients import grad_norm, random_feedback


def test_random_feedback_has_variance_one_over_n_rec():
    b = random_feedback(400, 50, seed=3)
    assert b.shape == (400, 50)
    assert b.var() == pytest.approx(1.0 / 400, rel=0.03)
    assert abs(b.mean()) < 4 * np.sqrt(1.0 / 400 / b.size)


def test_grad_norm_is_the_global_l2_norm():
    g = {
        "w_in": np.array([[3.0, 0.0]]),
        "w_rec": np.array([[0.0, -4.0], [0.0, 0.0]]),
        "w_out": np.array([[12.0], [0.0]]),
    }
    assert grad_norm(g) == pytest.approx(13.0, rel=1e-12)


def test_an_unknown_option_names_gradients_not_its_helper():
    """``gradients(..., lr=0.1)`` said ``evaluate() got an unexpected keyword argument``."""
    import infodyn as idn

    net = idn.network.LIF(n_in=2, n_rec=5, n_out=1)
    x, target = np.zeros((10, 2)), np.zeros((10, 1))
    with pytest.raises(
        TypeError, match="gradients\\(\\) got unexpected keyword arguments \\['lr'\\]"
    ):
        idn.learning.gradients(net, net.init(0), x, target, lr=0.1)
