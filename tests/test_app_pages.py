"""Every page's wiring in Streamlit's AppTest (through app.py's navigation), on a store of 200 runs; the first
paint of each page is timed and printed (not asserted: timings on a shared CPU are not a test)."""

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from weakneg import views
from weakneg.config import RunConfig
from weakneg.liveness import identity
from weakneg.store import RunStore
from weakneg.store.tables import runs

APP = Path(__file__).resolve().parents[1] / "app.py"


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
def lab(lab_store, monkeypatch):
    store, real = lab_store
    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    monkeypatch.setenv("WEAKNEG_ARTIFACTS", str(store.artifacts_root))
    return store, real


def check_home(app, real):
    assert len(app.dataframe[0].value) == 10 and "Latest runs" in texts(app, "subheader")


def check_launch(app, real):
    assert any("positive bags" in text for text in texts(app, "info"))


def check_run_table(app, real):
    assert len(app.dataframe[0].value) == 200 and "200 of 200 runs" in app.caption[0].value


def check_one_run(app, real):
    assert texts(app, "title") == [f"Run {real}: entropy negatives for class 3 of digits"]
    assert app.dataframe[0].value["phase"].tolist() == ["scoring", "selecting", "training", "evaluating"]


def check_inspect(app, real):
    k = RunStore().get_run(real).k  # the lab store (WEAKNEG_STORE)
    charts = app.get("vega_lite_chart")
    # composition, overlap, and one instance-evidence chart per bag card
    assert len(charts) == 2 + min(k, 12) and len(app.get("image")) == min(k, 12)
    assert any(text.startswith("Highlighted: the instance with the largest log-odds") for text in texts(app, "caption"))
    (canvas_map,) = app.get("bidi_component")  # the map: click, lasso and box in one mode
    meta = json.loads(canvas_map.proto.mixed.json)  # the points themselves travel as an Arrow blob
    assert canvas_map.proto.component_name == "weakneg_map" and f"{k} of " in meta["legend"]["title"]
    assert len(canvas_map.proto.mixed.arrow_blobs) == 1
    assert f"The {k} bags entropy chose at epoch 3" in texts(app, "subheader")
    assert any("prediction's entropy" in text for text in texts(app, "info"))


def check_compare(app, real):
    assert "AP vs random: verdicts per sampler" in texts(app, "subheader")
    assert len(app.get("download_button")) == 4
    assert "More seeds for this sweep" not in texts(app, "subheader")  # chosen runs, not a sweep: nothing to extend


def check_compare_sweep(app, real):
    assert "Runs of sweep `lab-sweep` (from the link)." in texts(app, "caption")
    verdicts = app.dataframe[0].value  # 2 seeds per class: verdicts of both claims, with intervals
    assert sorted(verdicts["sampler"]) == ["entropy", "grad_norm(label=known)", "margin"]
    for claim in ("these classes", "new classes"):  # 10 classes: both claims decide, each with its interval
        assert (
            verdicts[f"{claim}: mean ΔAP [95% CI]"]
            .str.fullmatch(r"[+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]")
            .all()
        )
        assert not verdicts[f"{claim}: verdict"].isin(["too few seeds", "too few classes"]).any()
    assert not verdicts.astype(str).isin(["None", "nan"]).any().any()
    assert "More seeds for this sweep" in texts(app, "subheader") and "optional stopping" in app.warning[-1].value


PAGE_CHECKS = [
    ("app_pages/home.py", {}, check_home),
    ("app_pages/launch.py", {}, check_launch),
    ("app_pages/runs.py", {}, check_run_table),
    ("app_pages/runs.py", {"run": "REAL"}, check_one_run),
    ("app_pages/inspect.py", {"run": "REAL"}, check_inspect),
    ("app_pages/compare.py", {}, check_compare),
    ("app_pages/compare.py", {"sweep": "lab-sweep"}, check_compare_sweep),
]


@pytest.mark.parametrize(
    "page, params, check", PAGE_CHECKS, ids=[c.__name__.removeprefix("check_") for *_, c in PAGE_CHECKS]
)
def test_each_page_on_a_store_of_200_runs(lab, page, params, check):
    store, real = lab
    assert store.count_runs() == 200
    started = time.perf_counter()
    app = no_exceptions(open_page(page, {k: str(real) if v == "REAL" else v for k, v in params.items()}))
    print(f"first paint of {page} {params}: {time.perf_counter() - started:.2f} s (AppTest; printed, not asserted)")
    check(app, real)


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
    assert len(runs) == 1 and runs[0].status == "queued"
    assert {k: runs[0].config[k] for k in ("sampler", "epochs", "pn_ratio", "target_class")} == {
        "sampler": "margin",
        "epochs": 2,
        "pn_ratio": 0.25,
        "target_class": "3",
    }
    assert app.query_params["run"] == [str(runs[0].id)] or app.query_params["run"] == str(runs[0].id)
    assert texts(app, "title") == [f"Run {runs[0].id}: margin negatives for class 3 of digits"]


def test_launch_passes_sampler_parameters_with_their_types(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    app = no_exceptions(open_page("app_pages/launch.py"))
    app.selectbox(key="sampler").set_value("adaptive").run()
    levels = next(t for t in app.text_input if t.key == "param_adaptive_levels")
    assert levels.value == ""  # null default shown as an empty field
    next(b for b in app.button if b.label == "Launch").click().run()
    params = RunStore().list_runs()[0].config["sampler_params"]
    assert params == {"selection_pressure": 4.0, "warmup_epochs": 1, "levels": None}
    app = no_exceptions(open_page("app_pages/launch.py"))
    app.selectbox(key="sampler").set_value("adaptive").run()
    next(t for t in app.text_input if t.key == "param_adaptive_levels").input("8").run()
    next(b for b in app.button if b.label == "Launch").click().run()
    assert RunStore().list_runs()[0].config["sampler_params"]["levels"] == 8


def test_cancel_from_the_run_page(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    store = RunStore()
    run_id = store.create_run(RunConfig(dataset="digits", target_class=1).to_dict())
    app = no_exceptions(open_page("app_pages/runs.py", {"run": str(run_id)}))
    assert "queued" in app.get("progress")[0].proto.text
    app.button(key="cancel").click().run()
    assert store.get_run(run_id).status == "cancelled"
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
    verdicts = app.dataframe[0].value  # one seed each: paired with random, but too few seeds for a verdict
    assert sorted(verdicts["sampler"]) == ["entropy", "grad_norm(label=known)", "margin"]
    assert set(verdicts["these classes: verdict"]) == {"too few seeds"}
    assert set(verdicts["new classes: verdict"]) == {"too few classes"}


def test_inspect_follows_a_running_run(monkeypatch):
    from weakneg.train import run_experiment

    store = RunStore()
    run_id = run_experiment(RunConfig(dataset="digits", target_class=3, epochs=1), store).run_id
    with store.engine.begin() as db:  # staged (a finished run never runs again): running in this live process
        db.execute(
            update(runs).where(runs.c.id == run_id).values(status="running", heartbeat=time.time(), **identity())
        )
    app = no_exceptions(open_page("app_pages/inspect.py", {"run": str(run_id)}))
    assert any("new epochs appear here as they finish" in c for c in texts(app, "caption"))
    store.finish_run(run_id, "finished")
    app = no_exceptions(open_page("app_pages/inspect.py", {"run": str(run_id)}))
    assert not any("new epochs appear here" in c for c in texts(app, "caption"))


def test_an_interrupted_run_resumes_from_its_page(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # queue only: no worker process in a unit test
    store = RunStore()
    run_id = store.create_run(RunConfig(dataset="digits", target_class=3, epochs=4).to_dict())
    store.start_run(run_id, target_name="3", n_pos=10, pool_size=40, k=20)
    store.add_epoch(run_id, 1, {"ap": 0.5, "auc": 0.6})
    store.finish_run(run_id, "interrupted", error="the worker stopped after epoch 1; finished epochs are kept")
    app = no_exceptions(open_page("app_pages/runs.py", {"run": str(run_id)}))
    resume = next(b for b in app.button if b.label == "Resume from the last finished epoch")
    resume.click().run()
    run = store.get_run(run_id)
    assert run.status == "queued" and run.epochs_done == 1 and len(store.epochs(run_id)) == 1
    assert not any(b.label == "Resume from the last finished epoch" for b in app.button)  # a queued run does not


def test_read_only_mode_offers_no_resume(monkeypatch):
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    store = RunStore()
    run_id = store.create_run(RunConfig(dataset="digits", target_class=3, epochs=4).to_dict())
    store.finish_run(run_id, "interrupted")
    app = no_exceptions(open_page("app_pages/runs.py", {"run": str(run_id)}))
    assert next(b for b in app.button if b.label == "Resume from the last finished epoch").disabled
