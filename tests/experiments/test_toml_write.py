"""Configs written as TOML (infodyn.experiments.toml_write) read back as the same values."""

import tomllib

import pytest

from infodyn.errors import InputError
from infodyn.experiments.toml_write import to_toml


def test_to_toml_values():
    text = to_toml({"a": 1, "b": {"s": 'q"x', "f": float("inf"), "l": [1, 2.5], "n": None}})
    assert tomllib.loads(text) == {"a": 1, "b": {"s": 'q"x', "f": float("inf"), "l": [1, 2.5]}}
    assert "# n = (unset)" in text


def test_to_toml_quotes_keys_and_comments_values():
    data = {"odd key": {"x-y": [True, -float("inf")], "t": {"k": "v"}}}
    text = to_toml(data, {"odd key.x-y": "a note"})
    assert tomllib.loads(text) == data
    assert "x-y = [true, -inf]  # a note" in text


def test_to_toml_refuses_what_toml_cannot_hold():
    with pytest.raises(InputError, match="cannot write a complex value to TOML"):
        to_toml({"c": 1j})
