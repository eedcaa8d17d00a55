"""Every page's wiring in Streamlit's AppTest (through app.py's navigation), on a store of 200 runs; the first
paint of each page is timed and printed (not asserted: timings on a shared CPU are not a test)."""

import time
from pathlib import Path

import pytest
from app_support import lab_store  # noqa: F401  (session fixture)
from streamlit.testing.v1 import AppTest

from weakneg_core import views
from weakneg_core.config import RunConfig
from weakneg_core.store import RunStore

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGES = [("app_pages/home.py", {}), ("app_pages/launch.py", {}), ("app_pages/runs.py", {}), ("app_pages/runs.py", {"run": "REAL"}),
         ("app_pages/inspect.py", {"run": "REAL"}), ("app_pages/compare.py", {}), ("app_pages/compare.py", {"sweep": "lab-sweep"})]


def open_page(page, params=None, timeout=60):
    app = AppTest.from_file(str(APP), default_timeout=timeout)
    app.switch_page(page)
    for key, value in (params or {}).items():
        app.query_params[key] = value
    return app.run()


def no_exceptions(app):
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app, kind):
    return [element.value for element in getattr(app, kind)]


@pytest.fixture
def lab(lab_store, monkeypatch):  # noqa: F811
    store, real = lab_store
    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    monkeypatch.setenv("WEAKNEG_ARTIFACTS", str(store.artifacts_root))
    return store, real


def test_every_page_with_200_runs_and_its_first_paint(lab):
    store, real = lab
    assert store.count_runs() == 200
    timings = []
    for page, params in PAGES:
        params = {k: str(real) if v == "REAL" else v for k, v in params.items()}
        started = time.perf_counter()
        app = no_exceptions(open_page(page, params))
        timings.append((page + (f"?{'&'.join(f'{k}={v}' for k, v in params.items())}" if params else ""),
                        time.perf_counter() - started))
        if page == "app_pages/home.py":
            assert len(app.dataframe[0].value) == 10 and "Latest runs" in texts(app, "subheader")
        elif page == "app_pages/launch.py":
            assert any("positive bags" in text for text in texts(app, "info"))
        elif page == "app_pages/runs.py" and not params:
            assert len(app.dataframe[0].value) == 200 and "200 of 200 runs" in app.caption[0].value
        elif page == "app_pages/runs.py":
            assert texts(app, "title") == [f"Run {real}: entropy negatives for class 3 of digits"]
            assert app.dataframe[0].value["phase"].tolist() == ["scoring", "selecting", "training", "evaluating"]
        elif page == "app_pages/inspect.py":
            k = store.get_run(real)["k"]
            charts = app.get("vega_lite_chart")
            assert len(charts) == 3 and len(app.get("image")) == min(k, 12)  # the map, composition, overlap
            assert f"The {k} bags entropy chose at epoch 3" in texts(app, "subheader")
            assert any("prediction's entropy" in text for text in texts(app, "info"))
        elif params:
            assert "Runs of sweep `lab-sweep` (from the link)." in texts(app, "caption")
            assert sorted(app.dataframe[0].value["sampler"]) == ["entropy", "grad_norm", "margin", "random"]
        else:
            assert "Table 1: means over classes" in texts(app, "subheader") and len(app.get("download_button")) == 3
    print("\nfirst paint with 200 runs in the store (AppTest, seconds; the first includes this process's imports):")
    for name, seconds in timings:
        print(f"  {seconds:6.2f}  {name}")
    repeat = [(name, _time(open_page, page, params, real)) for (name, _), (page, params) in zip(timings, PAGES)]
    print("again, imports warm (what a running server sees):")
    for name, seconds in repeat:
        print(f"  {seconds:6.2f}  {name}")


def _time(open_, page, params, real):
    started = time.perf_counter()
    no_exceptions(open_(page, {k: str(real) if v == "REAL" else v for k, v in params.items()}))
    return time.perf_counter() - started


def test_launch_refuses_a_bad_value_and_queues_a_run(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # queue only: no worker process in a unit test
    app = no_exceptions(open_page("app_pages/launch.py"))
    expected = views.launch_counts(RunConfig(dataset="digits", target_class="3"))
    assert f"**{expected.text}**" in texts(app, "info")
    app.number_input(key="bag_size").set_value(400).run()
    assert any("larger than the data allows" in text for text in texts(app, "error"))
    launch = next(b for b in app.button if b.label == "Launch")
    assert launch.disabled
    app.number_input(key="bag_size").set_value(5).run()
    app.number_input(key="epochs").set_value(2).run()
    app.selectbox(key="sampler").set_value("margin").run()
    app.number_input(key="pn_ratio").set_value(0.25).run()
    assert not app.error
    next(b for b in app.button if b.label == "Launch").click().run()
    runs = RunStore().list_runs()
    assert len(runs) == 1 and runs[0]["status"] == "queued"
    assert {k: runs[0]["config"][k] for k in ("sampler", "epochs", "pn_ratio", "target_class")} == {
        "sampler": "margin", "epochs": 2, "pn_ratio": 0.25, "target_class": "3"}
    assert app.query_params["run"] == [str(runs[0]["id"])] or app.query_params["run"] == str(runs[0]["id"])
    assert texts(app, "title") == [f"Run {runs[0]['id']}: margin negatives for class 3 of digits"]


def test_launch_passes_sampler_parameters_with_their_types(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    app = no_exceptions(open_page("app_pages/launch.py"))
    app.selectbox(key="sampler").set_value("adaptive").run()
    levels = next(t for t in app.text_input if t.key == "param_adaptive_levels")
    assert levels.value == ""  # null default shown as an empty field
    next(b for b in app.button if b.label == "Launch").click().run()
    params = RunStore().list_runs()[0]["config"]["sampler_params"]
    assert params == {"selection_pressure": 4.0, "warmup_epochs": 1, "levels": None}
    app = no_exceptions(open_page("app_pages/launch.py"))
    app.selectbox(key="sampler").set_value("adaptive").run()
    next(t for t in app.text_input if t.key == "param_adaptive_levels").input("8").run()
    next(b for b in app.button if b.label == "Launch").click().run()
    assert RunStore().list_runs()[0]["config"]["sampler_params"]["levels"] == 8


def test_cancel_from_the_run_page(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    store = RunStore()
    run_id = store.create_run(RunConfig(dataset="digits", target_class=1).to_dict())
    app = no_exceptions(open_page("app_pages/runs.py", {"run": str(run_id)}))
    assert "queued" in app.get("progress")[0].proto.text
    app.button(key="cancel").click().run()
    assert store.get_run(run_id)["status"] == "cancelled"
    assert not [b for b in app.button if b.key == "cancel"]  # a run that ended has no cancel button


def test_runs_filters_and_unknown_links(lab):
    store, real = lab
    app = no_exceptions(open_page("app_pages/runs.py"))
    app.multiselect(key="filter_sampler").set_value(["margin"]).run()
    assert app.caption[0].value.startswith("50 of 200 runs")
    assert set(app.dataframe[0].value["sampler"]) == {"margin"}
    app = no_exceptions(open_page("app_pages/runs.py", {"run": "99999"}))
    assert "There is no run 99999" in app.error[0].value
    app = no_exceptions(open_page("app_pages/compare.py", {"runs": f"{real + 1},{real + 2},{real + 3},{real + 4}"}))
    assert sorted(app.dataframe[0].value["sampler"]) == ["entropy", "grad_norm", "margin", "random"]


def test_inspect_follows_a_running_run(monkeypatch):
    from weakneg_core.train import run_experiment

    store = RunStore()
    run_id = run_experiment(RunConfig(dataset="digits", target_class=3, epochs=1), store).run_id
    store.start_run(run_id)  # recorded as running in this (live) process: the page should follow it
    app = no_exceptions(open_page("app_pages/inspect.py", {"run": str(run_id)}))
    assert any("new epochs appear here as they finish" in c for c in texts(app, "caption"))
    store.finish_run(run_id, "finished")
    app = no_exceptions(open_page("app_pages/inspect.py", {"run": str(run_id)}))
    assert not any("new epochs appear here" in c for c in texts(app, "caption"))
