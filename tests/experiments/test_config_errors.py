"""Config validation errors in one line (infodyn.experiments.config_errors)."""

import pytest

from infodyn.errors import InputError


def test_an_unknown_key_near_a_known_one_is_named():
    """A typo was "[input.n_step] unknown key", with no hint (the CLI's --metric had one)."""
    from infodyn.experiments.config import SimulateConfig, validate

    data = {"network": {"n_rec": 5, "rec_scal": 0.5}, "input": {"n_step": 10, "zzz": 1}}
    with pytest.raises(InputError) as err:
        validate(SimulateConfig, data, source="c.toml")
    text = str(err.value)
    assert "[network.rec_scal] unknown key (did you mean 'rec_scale'?)" in text
    assert "[input.n_step] unknown key (did you mean 'n_steps'?)" in text
    assert "[input.zzz] unknown key;" in text or text.endswith("[input.zzz] unknown key")
