"""Memory preflight: the refusal names the need, what is free and what to change."""

import pytest

from infodyn.errors import InputError
from infodyn.memory import (
    MemoryPreflightError,
    available_bytes,
    format_bytes,
    require_memory,
)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 1024**3) == "3 GiB"


def test_limit_caps_available(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "64M")
    assert available_bytes() == 64 * 1024**2


def test_refusal_message(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "1G")
    require_memory(100 * 1024**2, "a small thing", "nothing")
    with pytest.raises(MemoryPreflightError) as info:
        require_memory(10 * 1024**3, "a dense w_rec", "use connectivity='sparse'")
    msg = str(info.value)
    assert "a dense w_rec needs 10 GiB but 1 GiB is free; use connectivity='sparse'" == msg
    assert isinstance(info.value, InputError)


def test_bad_limit(monkeypatch):
    monkeypatch.setenv("INFODYN_MEMORY_LIMIT", "lots")
    with pytest.raises(InputError, match="not a size"):
        available_bytes()
    for value in ("nan", "inf", "1e400", "0", "-1G"):  # not a finite positive size
        monkeypatch.setenv("INFODYN_MEMORY_LIMIT", value)
        with pytest.raises(InputError, match="finite positive size"):
            available_bytes()
