"""The train run's [task] section (infodyn.experiments.train_run.build_task): option types."""

import pytest

import infodyn as idn
from infodyn.errors import InputError
from infodyn.experiments.train_run import build_task


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"n_steps": 1e99}, r"\[task.n_steps\] must be a whole number"),  # was a raw TypeError
        ({"n_steps": True}, r"\[task.n_steps\] must be a whole number"),
        ({"n_steps": "30"}, r"\[task.n_steps\] must be a whole number"),
        ({"rate_hz": float("nan")}, r"\[task.rate_hz\] must be a finite number"),
        ({"rate_hz": float("inf")}, r"\[task.rate_hz\] must be a finite number"),
        ({"bogus": 1}, r"\[task.bogus\] is not an option"),
    ],
)
def test_task_options_are_type_checked(opts, message):
    net = idn.network.LIF(n_in=3, n_rec=8, n_out=1)
    with pytest.raises(InputError, match=message):
        build_task({"kind": "pattern_generation", **opts}, net)


def test_good_task_options_build():
    net = idn.network.LIF(n_in=3, n_rec=8, n_out=1)
    task = build_task({"kind": "pattern_generation", "n_steps": 30, "rate_hz": 40}, net)
    assert task.n_steps == 30
