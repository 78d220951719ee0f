"""The suite's temporary files live in RAM when they can (tests/helpers/scratch.py)."""

import os
import tempfile

from tests.helpers.scratch import use_ram_for_temporary_files


def test_an_explicit_tmpdir_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert use_ram_for_temporary_files(tmp_path / "ram") is None
    assert os.environ["TMPDIR"] == str(tmp_path)


def test_without_tmpdir_a_folder_in_ram_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("TMPDIR")
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    assert use_ram_for_temporary_files(tmp_path / "missing") is None
    chosen = use_ram_for_temporary_files(tmp_path)
    assert chosen is not None and chosen.parent == tmp_path and chosen.is_dir()
    assert os.environ["TMPDIR"] == str(chosen) and tempfile.gettempdir() == str(chosen)


def test_this_session_writes_its_files_in_ram(tmp_path):
    # under make test the session's folders are on /dev/shm (unless TMPDIR was set)
    assert tmp_path.is_relative_to(tempfile.gettempdir())
