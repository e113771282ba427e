"""The one JSON-safe conversion (infodyn.data.atomic.to_jsonable) and the JSON file it writes."""

import json
import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from infodyn.data.atomic import to_jsonable, write_json


def test_to_jsonable_makes_plain_python():
    obj = {
        "i": np.int64(3),
        "f": np.float32(0.5),
        "a": np.arange(3),
        "j": jnp.ones(2),
        "p": Path("runs/x"),
        "t": (1, np.bool_(True)),
        "bad": [float("nan"), np.inf],
    }
    assert to_jsonable(obj) == {
        "i": 3,
        "f": 0.5,
        "a": [0, 1, 2],
        "j": [1.0, 1.0],
        "p": "runs/x",
        "t": [1, True],
        "bad": [None, None],
    }
    kept = to_jsonable(obj, keep_nonfinite=True)["bad"]
    assert math.isnan(kept[0]) and kept[1] == math.inf


def test_to_jsonable_refuses_what_it_cannot_convert():
    with pytest.raises(TypeError, match="object"):
        to_jsonable({"x": object()})


def test_write_json_writes_strict_json(tmp_path):
    path = write_json(tmp_path / "r.json", {"m": np.float64("nan"), "n": np.int32(2)})
    assert json.loads(path.read_text(), parse_constant=pytest.fail) == {"m": None, "n": 2}
