"""The step journal of interrupted runs (infodyn.experiments.interrupt.StepJournal): a corrupt
or foreign journal is an InputError; NaN results come back as NaN."""

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.experiments.interrupt import StepJournal


def test_journal_faults_and_nan(tmp_path):
    (tmp_path / "progress.json").write_text("{")
    with pytest.raises(InputError, match="progress.json: corrupt"):
        StepJournal(tmp_path, "abc", resume=True)
    j = StepJournal(tmp_path / "j", "abc", resume=False)
    j.put("a", {"x": float("nan")})
    assert np.isnan(StepJournal(tmp_path / "j", "abc", resume=True).get("a")["x"])
    with pytest.raises(InputError, match="different config"):
        StepJournal(tmp_path / "j", "xyz", resume=True)
