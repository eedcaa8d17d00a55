"""The MIL checks page (AppTest): launches checks as jobs, shows stored verdicts side by side."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from weakneg import milcheck
from weakneg.milcheck import CheckSettings, Sizes
from weakneg.store import QUEUED, RunStore

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "milcheck.py")
QUICK = dict(epochs=8, sizes=Sizes(train_pos=60, train_neg=300, eval_pos=100))


@pytest.fixture
def default_store(isolated_home):
    return RunStore()  # the store the page opens: under this test's WEAKNEG_HOME


def open_page() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def test_empty_store_explains_how_to_start(default_store):
    app = open_page()
    assert "No finished checks" in " ".join(i.value for i in app.info)
    assert "why this matters for negative sampling" in " ".join(e.label for e in app.expander).lower()


def test_run_button_queues_one_job_per_head_with_the_chosen_sampler(default_store, monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # queue only: no worker starts during the page test
    app = open_page()
    app.selectbox[0].set_value("all heads")
    app.selectbox[1].set_value("badge" if "badge" in app.selectbox[1].options else "random")
    app.number_input[0].set_value(2)
    app.button[0].click().run()
    assert not app.exception, app.exception
    jobs = default_store.list_runs(kind="milcheck")
    assert sorted(j.head for j in jobs) == ["attention", "mean_softmax", "softmax_max", "softmax_mean"]
    assert {j.status for j in jobs} == {QUEUED} and {j.seed for j in jobs} == {2}
    assert {j.sampler for j in jobs} == {app.selectbox[1].value}
    assert "queued MIL check job(s)" in app.success[0].value
    assert "Running:" in " ".join(i.value for i in app.info)


def test_stored_verdicts_are_shown_side_by_side(default_store):
    for head in ("softmax_max", "mean_softmax"):  # real checks, run in-process as a worker would
        run_id = default_store.create_run(
            milcheck.job_config(CheckSettings(head=head, **QUICK), ["poison"]), kind="milcheck"
        )
        milcheck.run_job(default_store, run_id, default_store.get_run(run_id).config)
    expected = milcheck.latest_results(default_store, sampler="random", seed=0)
    app = open_page()
    table = app.dataframe[0].value
    assert list(table.columns) == ["test", "mean_softmax", "softmax_max"]
    for head in ("mean_softmax", "softmax_max"):
        assert table[head][0] == milcheck.format_cell(expected[head]["tests"][0])
    labels = [e.label for e in app.expander]
    assert any(
        label.startswith("mean_softmax: " + milcheck.overall(expected["mean_softmax"]["tests"])) for label in labels
    )
