"""Unit selections (infodyn.data.units): one checker for lists and the '0-19,25' text."""

from __future__ import annotations

import numpy as np
import pytest

from infodyn.data.spikes import SpikeTrain
from infodyn.data.units import unit_subset
from infodyn.errors import InputError


def test_text_names_a_sorted_set_and_lists_keep_their_order():
    np.testing.assert_array_equal(unit_subset("0-3,7", 10), [0, 1, 2, 3, 7])
    np.testing.assert_array_equal(unit_subset(" 5, 0-2 ,1-3", 10), [0, 1, 2, 3, 5])
    np.testing.assert_array_equal(unit_subset("9", 10), [9])
    np.testing.assert_array_equal(unit_subset([7, 2, 4], 10), [7, 2, 4])
    np.testing.assert_array_equal(unit_subset(np.array([3.0]), 10), [3])


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ("0-9999999999", r"lie in \[0, 9\]"),  # was a list of 10^10 numbers, then out of memory
        ("5-2", "runs backwards"),  # was an empty range, silently
        ("", "is empty"),
        (" , ", "is empty"),
        ("0-9,,12", "an empty item between commas"),  # was read as "0-9,12"
        ("0-9,", "an empty item between commas"),
        ("0-3-5", "must look like"),
        ("a", "must look like"),
        ("1.5", "must look like"),
        ([0, 0], "unit 0 more than once"),  # was counted twice in n_units
        ([1, 2, 1, 2], r"2 units repeat"),
        ([-1], r"lie in \[0, n_units=10\)"),
        ([10], r"lie in \[0, n_units=10\)"),
        ([], "non-empty"),
        ([[0, 1]], "non-empty list"),
        ([0.5], "whole numbers"),
        ([np.nan], "whole numbers"),
    ],
)
def test_bad_selections_are_one_input_error(units, message):
    with pytest.raises(InputError, match=message):
        unit_subset(units, 10)


def test_select_units_checks_its_units():
    sp = SpikeTrain(
        times=np.array([0, 1, 2]),
        units=np.array([0, 1, 2]),
        trials=np.zeros(3, dtype=np.int64),
        n_units=3,
        n_steps=4,
        n_trials=1,
        dt=1.0,
    )
    # a negative index wrapped round to the last unit, and a repeat made an extra empty unit
    with pytest.raises(InputError, match="lie in"):
        sp.select_units([-1])
    with pytest.raises(InputError, match="more than once"):
        sp.select_units([0, 0])
    sub = sp.select_units("1-2")
    assert sub.n_units == 2 and sub.units.tolist() == [0, 1] and sub.times.tolist() == [1, 2]


def test_recorded_ids_tie_indices_back_to_the_recordings_units():
    from infodyn.data.units import recorded_ids

    meta = {"unit_ids": [3, 7, 12, 40, 101], "unit_groups": list("abcde")}
    assert recorded_ids(meta, 5) == [3, 7, 12, 40, 101]
    assert recorded_ids(meta, 5, np.array([3, 0])) == [40, 3]
    assert recorded_ids({"nwb_unit_ids": [10, 20]}, 2, [1]) == [20]
    assert recorded_ids(meta, 6) is None  # another file's ids: not these units'
    assert recorded_ids({}, 5) is None and recorded_ids(None, 5) is None
