"""The Launch and Sweeps forms refuse what the engine (or the server's caps) would refuse: Launch stays disabled
and the engine's own message is shown; no invalid value is replaced silently. Read-only mode launches nothing."""

import pytest
from streamlit.testing.v1 import AppTest

from weakneg import limits, milcheck
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.store import RunStore
from weakneg.sweep import count_numbers, parse_numbers
from test_app_pages import APP, no_exceptions


def open_page(page):
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page(page)
    return no_exceptions(app.run())


def launch_button(app, label="Launch"):
    return next(b for b in app.button if b.label == label)


def errors(app):
    return [e.value for e in app.error]


@pytest.fixture(autouse=True)
def queue_only(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # no worker process in a unit test
    for name in ("WEAKNEG_READONLY", "WEAKNEG_MAX_EPOCHS", "WEAKNEG_MAX_GRID", "WEAKNEG_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_a_choice_is_a_select_box_and_text_params_are_checked_by_the_engine():
    app = open_page("app_pages/launch.py")
    app.selectbox(key="sampler").set_value("badge").run()
    label = app.selectbox(key="param_badge_label")
    assert label.options == ["known", "predicted"] and label.value == "predicted"
    app.text_input(key="param_text").input("label=foo").run()
    assert any("parameter label must be one of known, predicted, got 'foo'" in e for e in errors(app))
    assert launch_button(app).disabled
    app.text_input(key="param_text").input("label=known").run()
    assert not app.error and not launch_button(app).disabled


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("epochs", 0, "epochs must be an integer >= 1 and <= 100,000, got 0"),
        ("pn_ratio", 0.0, "pn_ratio must be a number > 0"),
        ("bag_size", 0, "bag_size must be an integer >= 1 and <= 10,000, got 0"),
    ],
)
def test_an_out_of_range_number_shows_the_message_and_is_never_replaced(key, value, message):
    app = open_page("app_pages/launch.py")
    app.number_input(key=key).set_value(value).run()
    assert app.number_input(key=key).value == value  # kept as typed, not snapped back to the last valid value
    assert any(message in e for e in errors(app)) and launch_button(app).disabled
    assert RunStore().count_runs() == 0


def test_the_server_caps_epochs_with_a_message(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_EPOCHS", "20")
    app = open_page("app_pages/launch.py")
    app.number_input(key="epochs").set_value(21).run()
    assert any(
        "epochs 21 is above this server's cap of 20 (the operator sets it with WEAKNEG_MAX_EPOCHS)" in e
        for e in errors(app)
    )
    assert launch_button(app).disabled
    app.number_input(key="epochs").set_value(20).run()
    assert not launch_button(app).disabled


def test_read_only_mode_has_no_enabled_launch(monkeypatch):
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    app = open_page("app_pages/launch.py")
    assert launch_button(app).disabled and any("read-only demo" in i.value for i in app.info)
    app = open_page("app_pages/sweeps.py")
    assert launch_button(app, "Launch sweep").disabled


def test_sweeps_count_a_huge_seed_range_and_refuse_it_without_building_it():
    app = open_page("app_pages/sweeps.py")
    app.text_input(key="sw_seeds").input("0-9999999").run()
    assert any("40,000,000 runs" in e and "cap of 20,000" in e for e in errors(app))
    assert launch_button(app, "Launch sweep").disabled
    app.number_input(key="sw_epochs").set_value(0).run()
    assert launch_button(app, "Launch sweep").disabled


def test_counting_a_range_does_not_expand_it():
    assert count_numbers("0-9999999") == 10_000_000
    assert count_numbers("0 1, 2 5-9") == 8
    assert count_numbers("0.5 0.25", float) == 2
    assert count_numbers("3-1") == 0  # an empty range, as parse_numbers reads it
    for text in ("0 1 2", "0-4 7", "3-1", ""):
        assert count_numbers(text) == len(parse_numbers(text))
    with pytest.raises(ConfigError, match="cannot read 'x'"):
        count_numbers("0 x")


def test_limits_from_the_environment_and_a_file(tmp_path):
    defaults = limits.current({})
    assert (defaults.max_epochs, defaults.max_grid, defaults.readonly) == (500, 20_000, False)
    assert defaults.ray_address is None
    config = tmp_path / "weakneg.toml"
    config.write_text("[limits]\nmax_epochs = 7\nreadonly = true\n")
    from_file = limits.current({"WEAKNEG_CONFIG": str(config), "WEAKNEG_MAX_GRID": "10"})
    assert (from_file.max_epochs, from_file.max_grid, from_file.readonly) == (7, 10, True)
    assert limits.current({"WEAKNEG_CONFIG": str(config), "WEAKNEG_READONLY": "0"}).readonly is False
    with pytest.raises(limits.ReadOnly):
        from_file.check_run(RunConfig(epochs=3))
    with pytest.raises(ConfigError, match="WEAKNEG_MAX_EPOCHS must be > 0"):
        limits.current({"WEAKNEG_MAX_EPOCHS": "0"})
    with pytest.raises(ConfigError, match="WEAKNEG_READONLY must be 1 or 0"):
        limits.current({"WEAKNEG_READONLY": "maybe"})


def test_the_artifacts_cap_refuses_runs_that_would_save_arrays(tmp_path):
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "epoch_0001.npz").write_bytes(b"x" * 2000)
    assert limits.artifacts_gb(tmp_path) == pytest.approx(2e-6)
    capped = limits.current({"WEAKNEG_MAX_ARTIFACTS_GB": "0.000001"})
    with pytest.raises(ConfigError, match="saved pool arrays already take"):
        capped.check_run(RunConfig(save_embeddings="last"), tmp_path)
    capped.check_run(RunConfig(save_embeddings="none"), tmp_path)  # saves nothing: allowed


def test_rename_tag_filter_and_delete_from_the_run_pages(store, monkeypatch):
    from app_support import record_runs

    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    ids = record_runs(store, 4)
    store.save_epoch_arrays(ids[1], 1, pool_ids=[1, 2])
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/runs.py")
    app.query_params["run"] = str(ids[1])
    app.run()
    app.text_input(key="edit_name").input("lr probe")
    app.text_input(key="edit_tags").input("probe, digits")
    app.text_area(key="edit_notes").input("try 1e-2 next")
    next(b for b in app.button if b.label == "Save").click().run()
    no_exceptions(app)
    run = store.get_run(ids[1])
    assert (run.name, run.tags, run.notes) == ("lr probe", ["probe", "digits"], "try 1e-2 next")
    assert any("lr probe" in m.value for m in app.markdown)

    table = open_page("app_pages/runs.py")
    table.text_input(key="runs_search").input("tags:probe").run()
    assert table.caption[0].value.startswith("1 of 4 runs")
    assert table.dataframe[0].value["name"].tolist() == ["lr probe"]
    assert table.dataframe[0].value["AP"].tolist() == [f"{run.final_ap:.3f}"]

    app.button(key="one_delete").click().run()
    assert any("cannot be undone" in w.value for w in app.warning) and store.get_run(ids[1]) is not None
    app.button(key="one_delete_yes").click().run()
    no_exceptions(app)
    assert store.get_run(ids[1]) is None and not store.run_dir(ids[1], create=False).exists()
    assert any("Deleted run(s)" in s.value for s in app.success)  # back on the table, which says what went


def test_the_runs_page_reads_its_rows_once_per_rerun(store, monkeypatch):
    from app_support import record_runs

    from weakneg import views

    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    record_runs(store, 5)
    reads = []
    real = views.run_rows
    monkeypatch.setattr(views, "run_rows", lambda *a, **k: reads.append(k) or real(*a, **k))
    table = open_page("app_pages/runs.py")
    assert len(reads) == 1 and table.caption[0].value.startswith("5 of 5 runs")
    table.multiselect(key="filter_sampler").select("random").run()  # a filter choice: one more read, not two
    assert len(reads) == 2 and table.caption[0].value.startswith("2 of 5 runs")


def test_read_only_mil_checks_run_in_the_page_and_queue_no_job(monkeypatch):
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    app = AppTest.from_file(str(APP.parent / "app_pages" / "milcheck.py"), default_timeout=300)
    app.run()
    app.selectbox[0].set_value("all heads")
    app.button[0].click().run()
    assert any("one head at a time" in e for e in errors(app))
    app.selectbox[0].set_value("softmax_max")
    app.number_input[0].set_value(3)
    app.number_input[1].set_value(2)
    with milcheck.here.ONE_AT_A_TIME:  # another visitor's check is running in this server process
        app.button[0].click().run()
    no_exceptions(app)
    assert any("another visitor's MIL check" in w.value for w in app.warning)
    assert not any("softmax_max" in e.label for e in app.expander)  # refused: nothing trained, nothing shown
    app.button[0].click().run()
    no_exceptions(app)
    assert RunStore().count_runs() == 0  # nothing queued, nothing written
    assert any("softmax_max" in e.label and "run in this tab" in e.label for e in app.expander)
    assert "Verdicts with sampler `random`, seed 3" in [s.value for s in app.subheader]

    def must_not_train(settings):
        raise AssertionError("the same check was trained twice")

    monkeypatch.setattr(milcheck.here, "run_checks", must_not_train)
    other_visitor = AppTest.from_file(str(APP.parent / "app_pages" / "milcheck.py"), default_timeout=60)
    other_visitor.run()
    other_visitor.selectbox[0].set_value("softmax_max")
    other_visitor.number_input[0].set_value(3)
    other_visitor.number_input[1].set_value(2)
    other_visitor.button[0].click().run()
    no_exceptions(other_visitor)
    assert any("computed before" in c.value for c in other_visitor.caption)
    assert any("softmax_max" in e.label and "run in this tab" in e.label for e in other_visitor.expander)
