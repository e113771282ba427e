"""The energy run's split of the words into training and held-out ones
(infodyn.experiments.energy_run)."""

import numpy as np
import pytest

from infodyn.data import SpikeTrain
from infodyn.energy import binary_words
from infodyn.experiments.energy_run import _split


@pytest.mark.parametrize("window", [1, 2, 4])
def test_no_training_word_shares_a_bin_with_a_test_word(window):
    """Words slide one bin at a time: with window 3 the last two training words of a trial held
    bins of its first test word (the held-out likelihood saw part of its data)."""
    raster = np.random.default_rng(0).random((3, 120, 5)) < 0.2
    words = binary_words(SpikeTrain.from_dense(raster), window=window)
    train, test = _split(words, 0.25)
    assert not np.any(train & test)
    for t in range(3):
        mine = words.trial == t
        n = int(mine.sum())
        assert int((test & mine).sum()) == round(0.25 * n)  # the last quarter, held out
        last_train_bin = words.bin[train & mine].max() + window - 1
        assert last_train_bin < words.bin[test & mine].min()
        assert int((train & mine).sum()) == n - round(0.25 * n) - (window - 1)
