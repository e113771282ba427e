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


def test_a_bit_that_changes_only_in_the_validation_words_is_dropped(tmp_path):
    # bits were dropped when constant in all training words, but E.fit then held out its
    # validation rows: a bit changing only there was refused as "constant column 1" (a position
    # among the kept bits) with advice to pass allow_constant=True, which the CLI has not
    from infodyn.data.spikes import save_spikes
    from infodyn.energy.fit import split_validation
    from infodyn.experiments.energy_run import run_energy

    rng = np.random.default_rng(0)
    z = (rng.random((1000, 4)) < 0.3).astype(np.uint8)
    z[:, 1] = 0
    train = np.flatnonzero(_split(binary_words(SpikeTrain.from_dense(z), 1.0), 0.2)[0])
    _, held = split_validation(train, 0.1, 0)
    z[held[0], 1] = 1  # unit 1 spikes once, in a validation word
    save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(z))
    cfg = {"spikes": str(tmp_path / "s.h5"), "bin_ms": 1.0, "validation": 0.1, "seed": 0}
    res = run_energy({**cfg, "n_samples": 200}, tmp_path / "out")
    assert res["dropped_constant_bits"] == [1] and res["kept_bits"] == [0, 2, 3]


def test_the_fits_warnings_and_a_failed_fit_are_kept_in_the_results(tmp_path):
    """Six identical units beside four independent ones: early stopping stopped the MPF fit with
    its mass on the rarer word (held-out -13.9 bits a word for -7.2 independent); `infodyn
    energy` said so on stderr only, and results.json held warnings: []. A K-pairwise fit's
    unbounded-coupling warning went to stderr only too."""
    import json

    from infodyn.data.spikes import save_spikes
    from infodyn.experiments.energy_run import run_energy

    rng = np.random.default_rng(0)
    col = rng.random(5000) < 0.3
    z = np.concatenate([np.repeat(col[:, None], 6, axis=1), rng.random((5000, 4)) < 0.1], 1)
    save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(z))
    res = run_energy({"spikes": str(tmp_path / "s.h5"), "n_samples": 200}, tmp_path / "out")
    kept = json.loads((tmp_path / "out" / "results.json").read_text())["warnings"]
    assert kept == res["warnings"] and len(kept) == 1
    assert kept[0].startswith("the model does worse than independent units on its own training")
    z = (np.random.default_rng(4).random((400, 6)) < 0.05).astype(np.uint8)
    z[:, 0] = 0
    z[[3, 9], 0] = 1  # unit 0 active twice, never with most others
    save_spikes(tmp_path / "k.h5", SpikeTrain.from_dense(z))
    cfg = {"spikes": str(tmp_path / "k.h5"), "n_samples": 200, "model": "k_pairwise"}
    kept = run_energy(cfg, tmp_path / "kp")["warnings"]
    assert any(w.startswith("fit: in the data, unit") for w in kept), kept


def test_holding_out_almost_every_word_is_named_so(tmp_path):
    # 2 words left to fit were refused as "no bits change: select units that spike, a larger
    # bin_ms" (a larger bin_ms leaves fewer words still)
    from infodyn.data.spikes import save_spikes
    from infodyn.errors import InputError
    from infodyn.experiments.energy_run import run_energy

    z = (np.random.default_rng(0).random((1000, 4)) < 0.3).astype(np.uint8)
    save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(z))
    cfg = {"spikes": str(tmp_path / "s.h5"), "bin_ms": 1.0, "test_fraction": 0.999}
    message = r"test_fraction = 0.999 leave 1 of the 1000 words to fit"  # (no validation of 1)
    with pytest.raises(InputError, match=message + r" the model to, .*: hold out fewer words"):
        run_energy(cfg, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failed_fit_leaves_no_empty_out_folder(tmp_path, monkeypatch):
    import infodyn.energy as E
    from infodyn.data.spikes import save_spikes
    from infodyn.errors import InputError
    from infodyn.experiments.energy_run import run_energy

    z = (np.random.default_rng(0).random((1000, 4)) < 0.3).astype(np.uint8)
    save_spikes(tmp_path / "s.h5", SpikeTrain.from_dense(z))

    def fails(*args, **kwargs):
        raise InputError("the fit failed")

    monkeypatch.setattr(E, "fit", fails)
    with pytest.raises(InputError, match="the fit failed"):
        run_energy({"spikes": str(tmp_path / "s.h5"), "bin_ms": 1.0}, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_memories_are_points_on_the_log_axis_and_the_chain_has_whole_ticks():
    """The memories' probabilities were bars on a log axis (a bar there starts nowhere, so its
    length meant nothing), and the transition matrix of two memories had ticks at 0.5 steps."""
    from infodyn.energy import IsingModel
    from infodyn.experiments.energy_run import _figures

    figures = {}

    class Run:
        def savefig(self, fig, name):
            figures[name] = fig

    model = IsingModel(np.array([[0.0, 1.0], [1.0, 0.0]]), np.zeros(2))
    words = np.array([[0, 0], [1, 1], [1, 1]])
    freq, energy = np.array([2 / 3, 1 / 3]), np.array([-1.0, 0.0])
    transition = np.array([[0.5, 0.5], [1.0, 0.0]])
    memories = np.array([[1, 1], [0, 0]])
    ind = IsingModel.independent(words)
    _figures(Run(), model, words, words, ind, memories, freq, energy, 0.5, transition, [0, 1], "x")
    panel = figures["memories"].axes[1]
    assert not panel.patches and panel.get_xscale() == "log"
    np.testing.assert_allclose(panel.lines[0].get_xdata(), freq)
    np.testing.assert_allclose(panel.lines[1].get_xdata(), np.exp(-energy - 0.5))
    np.testing.assert_allclose(panel.lines[0].get_ydata(), [0, 1])
    ticks = figures["transitions"].axes[0].get_xticks()
    np.testing.assert_array_equal(ticks, [0, 1])
