"""The step journal of interrupted runs (infodyn.experiments.journal.StepJournal): corrupt,
foreign (another config or command) and damaged journals; NaN results come back as NaN."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infodyn.errors import InputError
from infodyn.experiments.journal import StepJournal, check_resumable, config_digest


def _journal(path, resume=True, digest="abc", command="channel"):
    return StepJournal(path, digest, resume, command)


def test_journal_faults_and_nan(tmp_path):
    (tmp_path / "progress.json").write_text("{")
    with pytest.raises(InputError, match="progress.json: corrupt"):
        _journal(tmp_path)
    j = _journal(tmp_path / "j", resume=False)
    j.put("a", {"x": float("nan")})
    assert np.isnan(_journal(tmp_path / "j").get("a")["x"])
    with pytest.raises(InputError, match="different config"):
        _journal(tmp_path / "j", digest="xyz")


@pytest.mark.parametrize(
    "record",
    [
        {"config": "abc", "steps": "abc"},
        {"config": "abc", "steps": [1, 2]},
        {"config": "abc", "steps": {}, "checksums": [1]},
    ],
)
def test_journal_whose_tables_are_not_tables_is_corrupt(record, tmp_path):
    (tmp_path / "progress.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="progress.json: corrupt"):
        _journal(tmp_path)


def test_put_returns_what_a_resumed_run_gets_back(tmp_path):
    j = _journal(tmp_path, resume=False)
    fresh = j.put("s", {"v": np.arange(3), "m": np.float32(0.5), "t": (1, 2)})
    assert fresh == {"v": [0, 1, 2], "m": 0.5, "t": [1, 2]}
    assert _journal(tmp_path).get("s") == fresh


def test_a_damaged_step_is_run_again_and_the_others_are_kept(tmp_path):
    j = _journal(tmp_path, resume=False)
    j.put("first", [{"m": 0.98, "rate_hz": 4.0}])
    j.put("second", [{"m": 0.91, "rate_hz": 6.0}])
    data = json.loads((tmp_path / "progress.json").read_text())
    data["steps"]["second"] = [{"m": "oops"}]  # edited by hand, or a bad disk
    (tmp_path / "progress.json").write_text(json.dumps(data))
    with pytest.warns(UserWarning, match="'second' do not match their checksums"):
        resumed = _journal(tmp_path)
    assert resumed.get("first") == [{"m": 0.98, "rate_hz": 4.0}] and "second" not in resumed
    resumed.put("second", [{"m": 0.91, "rate_hz": 6.0}])  # run again: the journal is whole
    assert _journal(tmp_path).get("second") == [{"m": 0.91, "rate_hz": 6.0}]


def test_a_journal_without_checksums_or_command_is_read(tmp_path):
    # as written before the checksums and the command were recorded
    record = {"config": "abc", "steps": {"a": {"x": 1}}}
    (tmp_path / "progress.json").write_text(json.dumps(record))
    assert _journal(tmp_path).get("a") == {"x": 1}


def test_resume_with_another_command_is_refused(tmp_path):
    _journal(tmp_path / "ch", resume=False).put("a", 1)
    with pytest.raises(InputError, match="written by infodyn channel, not infodyn images"):
        _journal(tmp_path / "ch", command="images")


def test_a_fresh_start_over_an_interrupted_run_is_refused_naming_its_command(tmp_path):
    _journal(tmp_path, resume=False).put("a", 1)
    with pytest.raises(InputError, match="interrupted channel run .*--resume"):
        _journal(tmp_path, resume=False, command="images")


def test_resume_with_nothing_to_resume_is_refused(tmp_path):
    # --resume into a misspelt folder, or onto a finished run (even with another config),
    # started the whole run afresh
    with pytest.raises(InputError, match="no interrupted channel run to resume"):
        check_resumable(tmp_path / "typo", "channel")
    done = tmp_path / "done"
    done.mkdir()
    (done / "config.json").write_text(json.dumps({"command": "channel"}))
    (done / "results.json").write_text("{}")
    with pytest.raises(InputError, match="its channel run is complete .*nothing to resume"):
        check_resumable(done, "channel")
    with pytest.raises(InputError, match="no interrupted images run"):  # another command's
        check_resumable(done, "images")
    assert sorted(p.name for p in done.iterdir()) == ["config.json", "results.json"]
    _journal(done, resume=False).put("a", 1)
    check_resumable(done, "channel")  # a journal: something to resume


def test_a_checkpoint_of_a_step_before_the_first_journal_entry_can_be_resumed(tmp_path):
    # the image pipeline without its image stage, stopped in training: its checkpoint was
    # written before any step was journaled, and --resume was refused (stop 40's review)
    from infodyn.experiments.pipeline.training_stage import TRAINING_CHECKPOINT

    (tmp_path / "training").mkdir()
    with pytest.raises(InputError, match="no interrupted images run"):
        check_resumable(tmp_path, "images", TRAINING_CHECKPOINT)
    (tmp_path / TRAINING_CHECKPOINT).write_bytes(b"PK")
    check_resumable(tmp_path, "images", TRAINING_CHECKPOINT)


def test_changing_a_result_after_put_or_get_changes_nothing_recorded(tmp_path):
    # the pipeline pops "notes" from the network stage's result: the entry must stay whole
    j = _journal(tmp_path, resume=False)
    j.put("network", {"notes": ["n"], "m": 1.0}).pop("notes")
    j.get("network").pop("m")
    j.put("other", 2)
    resumed = _journal(tmp_path)  # no checksum warning: the entries are as put
    assert resumed.get("network") == {"notes": ["n"], "m": 1.0} and resumed.get("other") == 2


def test_config_digest_ignores_key_order():
    assert config_digest({"a": 1, "b": {"c": 2, "d": 3}}) == config_digest(
        {"b": {"d": 3, "c": 2}, "a": 1}
    )
    assert config_digest({"a": 1}) != config_digest({"a": 2})


def test_finish_removes_the_journal(tmp_path):
    j = StepJournal(tmp_path, "abc", False, "channel")
    j.put("a", 1)
    assert (tmp_path / "progress.json").exists()
    j.finish()
    assert not (tmp_path / "progress.json").exists()
    StepJournal(tmp_path, "abc", False, "channel")  # a fresh run there is no longer refused


def test_a_put_that_fails_mid_write_keeps_the_previous_journal(tmp_path, monkeypatch):
    # the journal is written atomically: a disk that fills mid-write leaves the last whole one

    j = StepJournal(tmp_path, "abc", False, "channel")
    j.put("a", {"x": 1})
    real = Path.write_text

    def half_then_disk_full(self, text, *args, **kwargs):
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_disk_full)
    with pytest.raises(OSError, match="No space"):
        j.put("b", {"x": 2})
    monkeypatch.undo()
    resumed = StepJournal(tmp_path, "abc", True, "channel")
    assert resumed.steps == {"a": {"x": 1}}


def test_a_journal_of_another_config_names_the_keys_that_changed(tmp_path):
    """The refusal "written for a different config" named no key (train's refusal does): the
    journal now keeps the config it hashed and the refusal lists what changed; an older journal
    without it still gets the plain refusal."""
    old = {"seeds": [0, 1], "network": {"n_rec": 40, "tau": 20.0}}
    new = {"seeds": [0, 1], "network": {"n_rec": 40, "tau": 30.0}, "extra": 1}
    j = StepJournal(tmp_path, config_digest(old), False, "channel", old)
    j.put("s", {"x": 1})
    assert json.loads((tmp_path / "progress.json").read_text())["settings"] == old
    with pytest.raises(InputError, match=r"different config \(changed: network.tau, extra\);"):
        StepJournal(tmp_path, config_digest(new), True, "channel", new)
    assert StepJournal(tmp_path, config_digest(old), True, "channel", old).get("s") == {"x": 1}
    data = json.loads((tmp_path / "progress.json").read_text())
    del data["settings"]
    (tmp_path / "progress.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"different config; rerun"):
        StepJournal(tmp_path, config_digest(new), True, "channel", new)


def test_a_failed_runs_journal_gives_way_to_a_plain_rerun_only(tmp_path):
    """A run that failed on bad input part way marks its journal failed: a plain rerun (the
    corrected config) may start over it, --resume still reuses its steps, and neither an
    interrupted run's journal, another command's failed one, nor one this run did not write
    changes."""
    j = _journal(tmp_path / "a", resume=False)
    j.put("one", 1)
    with pytest.raises(InputError, match="interrupted channel run"):
        _journal(tmp_path / "a", resume=False)
    j.fail("bad input at step two")
    assert json.loads((tmp_path / "a" / "progress.json").read_text())["failed"] == (
        "bad input at step two"
    )
    assert _journal(tmp_path / "a").get("one") == 1
    with pytest.warns(UserWarning, match=r"steps \('one'\) are discarded: this run starts afresh$"):
        _journal(tmp_path / "a", resume=False, digest="corrected")  # accepted, and said
    with pytest.raises(InputError, match="interrupted channel run"):
        _journal(tmp_path / "a", resume=False, command="images")
    untouched = _journal(tmp_path / "b", resume=False)  # wrote nothing: fail() writes nothing
    untouched.fail("refused")
    assert not (tmp_path / "b" / "progress.json").exists()
