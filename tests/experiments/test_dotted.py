"""Dotted keys into nested tables (infodyn.experiments.dotted)."""

import pytest

from infodyn.errors import InputError
from infodyn.experiments.dotted import get_dotted, set_dotted


def test_set_and_get_dotted_keys():
    data = {"network": {"n_rec": 10}}
    set_dotted(data, "network.k_in", 5)
    set_dotted(data, "simulation.engine", "event")  # a table made on the way
    assert data == {"network": {"n_rec": 10, "k_in": 5}, "simulation": {"engine": "event"}}
    assert get_dotted(data, "network.k_in") == 5
    with pytest.raises(KeyError):
        get_dotted(data, "network.k_in.x")


def test_a_step_that_is_not_a_table_names_its_option():
    data = {"network": {"n_rec": 10}}
    with pytest.raises(InputError, match=r"^--grid 'network.n_rec.x': 'network.n_rec' is not a"):
        set_dotted(data, "network.n_rec.x", 1)
    # a command-line override: before, 'int' object has no attribute 'setdefault'
    with pytest.raises(InputError, match=r"^--engine 'network.n_rec.x': 'network.n_rec' is not"):
        set_dotted(data, "network.n_rec.x", 1, source="--engine")
    assert data == {"network": {"n_rec": 10}}
