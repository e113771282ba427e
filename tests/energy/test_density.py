"""Held-out likelihood under the smoothed histogram, against counting by hand."""

import math
from collections import Counter

import numpy as np
import pytest

from infodyn import InputError
from infodyn.energy import smoothed_histogram_bits


def test_smoothed_histogram_matches_counting_by_hand():
    rng = np.random.default_rng(0)
    train = (rng.random((200, 5)) < 0.3).astype(np.uint8)
    test = (rng.random((50, 5)) < 0.3).astype(np.uint8)
    counts = Counter(map(tuple, train))
    a = 0.5
    want = np.mean([math.log2((counts[tuple(x)] + a) / (200 + a * 32)) for x in test])
    assert smoothed_histogram_bits(train, test, a) == pytest.approx(want, rel=1e-12)
    # a uniform training set of every state once: p = 1/32 whatever the smoothing
    every = ((np.arange(32)[:, None] >> np.arange(5)) & 1).astype(np.uint8)
    assert smoothed_histogram_bits(every, test, 3.0) == pytest.approx(-5.0)


def test_smoothed_histogram_refuses_bad_input():
    x = np.zeros((4, 3), dtype=np.uint8)
    with pytest.raises(InputError):
        smoothed_histogram_bits(x, np.zeros((4, 2), dtype=np.uint8))
    with pytest.raises(InputError):
        smoothed_histogram_bits(x, x, 0.0)
