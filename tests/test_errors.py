"""Shared input checks (infodyn.errors): seeds NumPy cannot use and option types are one
InputError naming what is wrong."""

import numpy as np
import pytest

from infodyn.errors import InputError, check_option_type, make_rng


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan"), True, "7", [-3, 1]])
def test_make_rng_refuses_what_numpy_cannot_seed(bad):
    # branching_ratio(seed=-1) raised NumPy's "expected non-negative integer"
    with pytest.raises(InputError, match="seed must be a whole number >= 0"):
        make_rng(bad)


def test_make_rng_accepts_what_numpy_accepts():
    g = np.random.default_rng(5)
    assert make_rng(g) is g
    assert make_rng(7).random() == np.random.default_rng(7).random()
    assert make_rng(np.int64(7)).random() == np.random.default_rng(7).random()
    assert make_rng([7, 2]).random() == np.random.default_rng([7, 2]).random()
    assert make_rng(2**70).random() == np.random.default_rng(2**70).random()
    assert isinstance(make_rng(None), np.random.Generator)


@pytest.mark.parametrize(
    ("value", "annotation", "message"),
    [
        (1e99, "int", "whole number"),
        (True, "int", "whole number"),
        ("20", "int", "whole number"),
        (float("nan"), "float", "finite number"),
        ("text", float, "finite number"),
        (False, "float", "finite number"),
    ],
)
def test_check_option_type(value, annotation, message):
    with pytest.raises(InputError, match=f"opt must be a {message}"):
        check_option_type("opt", value, annotation)
    check_option_type("opt", 3, "int")
    check_option_type("opt", 3, "float")
    check_option_type("opt", "anything", "str")


@pytest.mark.parametrize("bad", [2.5, float("nan"), True, "3", -1, 2**70])
def test_whole_number_refuses_fractions_nan_bools_and_out_of_range(bad):
    from infodyn.errors import whole_number

    with pytest.raises(InputError, match="kmax must be"):
        whole_number(bad, "kmax")
    assert whole_number(np.int64(4), "kmax") == 4 and type(whole_number(4, "k")) is int
