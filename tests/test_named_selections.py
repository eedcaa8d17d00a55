"""Named selections (bags boxed or lassoed on Inspect's map): saved, listed, tagged and deleted through the engine;
bad input refused with one line; read-only mode refuses every change; reading writes nothing; saves from many
threads at once all survive."""

import threading

import pytest

from weakneg import named_selections as ns
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.limits import ReadOnly
from weakneg.store import RunStore


@pytest.fixture
def store(isolated_home, monkeypatch):
    monkeypatch.delenv("WEAKNEG_READONLY", raising=False)
    store = RunStore()
    store.create_run(RunConfig().to_dict())
    return store


def test_save_list_tag_and_delete(store):
    assert ns.list_selections(store) == []
    assert not (store.artifacts_root / store.store_id / ns.FILE).exists()  # a read wrote nothing
    first = ns.save_selection(store, 1, 3, [7, 2, 7, 9], "  near the positives ", ["hard", "hard", "sevens"])
    assert (first.id, first.run_id, first.epoch, first.name) == (1, 1, 3, "near the positives")
    assert first.bag_ids == [7, 2, 9] and first.tags == ["hard", "sevens"]  # duplicates dropped, order kept
    assert first.link() == "?run=1&epoch=3&selection=1"
    second = ns.save_selection(store, 1, 2, [4], "one bag")
    assert second.id == 2 and [s.id for s in ns.list_selections(store, run_id=1)] == [2, 1]  # newest first
    assert ns.list_selections(store, run_id=99) == []
    tagged = ns.tag_selection(store, 1, ["sevens", "review"])
    assert tagged.tags == ["hard", "sevens", "review"] and ns.get_selection(store, 1) == tagged
    ns.delete_selection(store, 1)
    assert ns.get_selection(store, 1) is None and [s.id for s in ns.list_selections(store)] == [2]
    assert ns.save_selection(store, 1, 1, [5], "after a delete").id == 3  # an id is never given twice


@pytest.mark.parametrize(
    "args, message",
    [
        ((1, 1, [1], "   "), "a selection needs a name"),
        ((1, 1, [], "x"), "needs at least one bag"),
        ((42, 1, [1], "x"), "there is no run 42"),
        ((1, 1, [1], "x" * 201), "at most 200 characters, got 201"),
    ],
)
def test_bad_input_is_refused_with_one_line_and_nothing_written(store, args, message):
    with pytest.raises(ConfigError, match=message):
        ns.save_selection(store, *args)
    assert ns.list_selections(store) == []
    with pytest.raises(ConfigError, match="there is no selection 5"):
        ns.tag_selection(store, 5, ["x"])
    with pytest.raises(ConfigError, match="a tag has at most 40 characters"):
        ns.save_selection(store, 1, 1, [1], "x", ["t" * 41])


def test_read_only_mode_refuses_every_change(store, monkeypatch):
    kept = ns.save_selection(store, 1, 1, [1, 2], "kept")
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    for change in (
        lambda: ns.save_selection(store, 1, 1, [1], "new"),
        lambda: ns.tag_selection(store, kept.id, ["x"]),
        lambda: ns.delete_selection(store, kept.id),
    ):
        with pytest.raises(ReadOnly, match="read-only demo"):
            change()
    assert ns.list_selections(store) == [kept]  # and reading still works


def test_saves_at_once_all_survive(store):
    errors = []

    def save(i):
        try:
            ns.save_selection(store, 1, 1, [i], f"tab {i}")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    kept = ns.list_selections(store)
    assert sorted(s.id for s in kept) == list(range(1, 17)) and sorted(s.bag_ids[0] for s in kept) == list(range(16))


def test_a_damaged_file_is_named_not_replaced(store):
    path = store.artifacts_root / store.store_id / ns.FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        ns.list_selections(store)
    with pytest.raises(ConfigError, match="cannot be read"):
        ns.save_selection(store, 1, 1, [1], "x")
    assert path.read_text(encoding="utf-8") == "{not json"
