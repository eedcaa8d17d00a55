"""Reads never create or repair a store (issue 26 item 4): `list`, `show` and `compare` refuse a store file that
is empty, not SQLite, or SQLite but not a run store, with one line naming it, and leave it byte for byte as it
was; on a fresh home they create nothing. A page's store is refused the same way."""

import sqlite3

import pytest

from weakneg.cli import main
from weakneg.errors import WeaknegError
from weakneg.store import open_existing, open_store

READS = (["list"], ["show", "1"], ["compare"])


def broken_stores(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    text = tmp_path / "text.db"
    text.write_text("these are my notes, not a database\n")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (line TEXT)")
    return {"is empty": empty, "is not a SQLite database": text, "has no runs table": other}


@pytest.mark.parametrize("command", READS, ids=lambda c: c[0])
def test_a_read_refuses_a_file_that_is_not_a_store(tmp_path, capsys, command):
    for why, path in broken_stores(tmp_path).items():
        before = path.read_bytes()
        assert main([*command, "--store", f"sqlite:///{path}"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err and why in err, err
        assert path.read_bytes() == before  # nothing written, nothing repaired
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(path.stem)) == [path.name]


@pytest.mark.parametrize("command", READS, ids=lambda c: c[0])
def test_a_read_on_a_fresh_home_creates_nothing(tmp_path, capsys, command, monkeypatch):
    monkeypatch.setenv("WEAKNEG_HOME", str(tmp_path / "home"))
    code = main(command)
    assert code in (0, 2)
    assert capsys.readouterr().err.count("\n") <= 1
    assert not (tmp_path / "home" / "runs.db").exists()


def test_the_pages_store_refuses_a_broken_file(tmp_path):
    for why, path in broken_stores(tmp_path).items():
        with pytest.raises(WeaknegError, match=why):
            open_store(f"sqlite:///{path}")
        with pytest.raises(WeaknegError, match=why):
            open_existing(f"sqlite:///{path}")
