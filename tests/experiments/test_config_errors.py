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


@pytest.mark.parametrize(
    ("units", "said"),
    [
        (3, "[units] got 3: must be a list of int or text"),
        ({"a": 1}, "[units] got {'a': 1}: must be a list of int or text"),
        ([1, 2.5], "[units.1] Input should be a valid integer, got a number with a fractional"),
    ],
)
def test_a_value_that_fits_no_member_of_a_union_says_what_it_may_be(units, said):
    """Each member of the union was an error of its own under its type's name:
    "[units.list[int]] Input should be a valid list; [units.str] Input should be a valid
    string"; a list with one bad item also said "[units] ... must be text"."""
    from infodyn.experiments.config import get_command, validate

    with pytest.raises(InputError) as err:
        validate(get_command("energy").config_model(), {"spikes": "x.h5", "units": units}, "")
    assert str(err.value).startswith(said) and ";" not in str(err.value), str(err.value)
