"""The Launch form starts multi-label runs: several classes in one model, with each class's counts as the engine
computes them, and the target the CLI would take (`all`, `1,4`, `3,`)."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from weakneg.config import RunConfig, negatives_per_epoch
from weakneg.data import class_names, load_bags
from weakneg.views import multilabel_target
from test_app_pages import APP, no_exceptions

SEVERAL = "Several classes (one multi-label model)"


@pytest.fixture
def launch(store, monkeypatch):
    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # queued only: no worker process in a unit test
    for name in ("WEAKNEG_READONLY", "WEAKNEG_MAX_EPOCHS", "WEAKNEG_MAX_GRID", "WEAKNEG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.switch_page("app_pages/launch.py")
    no_exceptions(app.run())
    app.selectbox(key="dataset").set_value("digits").run()
    app.radio(key="class_mode").set_value(SEVERAL).run()
    return no_exceptions(app)


def launch_button(app):
    return next(b for b in app.button if b.label == "Launch")


def test_the_form_targets_what_the_cli_takes():
    names = ["cat", "dog", "Male speech, man speaking"]
    assert multilabel_target(names, names) == "all"
    assert multilabel_target(["cat", "Male speech, man speaking"], names) == "0,2"  # positions: names hold commas
    assert multilabel_target(["dog"], names) == "1,"  # one class in a multi-label model
    assert multilabel_target([], names) == ","  # refused by the config: it names no class


def test_all_classes_show_each_class_counts_and_queue_one_multilabel_run(launch, store):
    counts = next(i.value for i in launch.info if "one model for" in i.value)
    # each class's k, from the bags themselves: positives carry the class, the pool is the bags without it
    bags = load_bags(RunConfig(dataset="digits", target_class="all"))
    held = np.asarray(bags.train.contents) > 0
    ks = [negatives_per_epoch(int(h.sum()), 0.5, int((~h).sum())) for h in held.T]
    positives = held.sum(0)
    assert "one model for 10 class(es)" in counts
    assert f"per class {positives.min():,}-{positives.max():,} positive bags and {min(ks):,}-{max(ks):,} of" in counts
    launch_button(launch).click().run()
    (run,) = store.list_runs()
    assert run.config["target_class"] == "all" and run.status == "queued"


def test_chosen_classes_and_one_class_alone(launch, store):
    names = class_names("digits")
    launch.multiselect(key="targets").set_value([names[1], names[4]]).run()
    assert any("one model for 2 class(es)" in i.value for i in launch.info)
    launch.multiselect(key="targets").set_value([names[3]]).run()
    assert any("one model for 1 class(es)" in i.value for i in launch.info)
    launch_button(launch).click().run()
    (run,) = store.list_runs()
    assert run.config["target_class"] == "3,"


def test_no_class_chosen_is_said_and_launches_nothing(launch, store):
    launch.multiselect(key="targets").set_value([]).run()
    assert any("names no class" in e.value for e in launch.error) and launch_button(launch).disabled
    assert store.list_runs() == []


def test_a_ratio_that_leaves_a_class_without_negatives_names_the_class(launch):
    launch.number_input(key="pn_ratio").set_value(1e6).run()
    assert any("class '0'" in e.value and "no negatives per epoch" in e.value for e in launch.error)
    assert launch_button(launch).disabled
