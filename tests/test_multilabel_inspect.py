"""Inspect a multi-label run: choose a class; the map, the chosen bags and the cards are that class's negatives."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from weakneg import views
from weakneg.config import RunConfig
from weakneg.store import RunStore
from weakneg.store.epoch_record import CLASS_POOL_FILE, CLASSES_FILE
from weakneg.train import run_experiment

APP = Path(__file__).resolve().parent.parent / "app.py"
CFG = RunConfig(dataset="digits", target_class="0,5,8", sampler="badge", epochs=2, bag_size=2, seed=1)


def test_a_class_view_is_that_classs_negatives_picks_and_scores():
    store = RunStore()
    result = run_experiment(CFG, store)
    run = store.get_run(result.run_id)
    assert views.run_classes(store, run) == ["0", "5", "8"]
    start = store.load_epoch_record(run.id, 0).bags
    ids, labels = start.bag_ids, start.class_labels
    for c in range(3):
        assert views.class_epochs(store, run.id, c) == [1, 2]
        view = views.class_epoch_view(store, run.id, 2, c)
        pool = view.pool
        np.testing.assert_array_equal(np.sort(pool["bag_id"]), np.sort(ids[labels[:, c] == 0]))  # class c's negatives
        positives = view.frame[view.frame["kind"] == "positive"]
        np.testing.assert_array_equal(np.sort(positives["bag_id"]), np.sort(ids[labels[:, c] == 1]))
        saved = store.load_arrays(run.id, CLASSES_FILE.format(epoch=2))
        picks = saved["chosen_ids"][saved["chosen_offsets"][c] : saved["chosen_offsets"][c + 1]]
        in_order = pool[pool["selected"]].sort_values("pick")["bag_id"].to_numpy()
        np.testing.assert_array_equal(in_order, picks)  # the same picks, in pick order, as the compact index list
        np.testing.assert_allclose(
            pool[pool["selected"]].sort_values("pick")["score"],
            saved["chosen_scores"][saved["chosen_offsets"][c] : saved["chosen_offsets"][c + 1]],
            rtol=1e-6,
        )
        first = store.load_arrays(run.id, CLASSES_FILE.format(epoch=1))
        before = set(first["chosen_ids"][first["chosen_offsets"][c] : first["chosen_offsets"][c + 1]].tolist())
        twice = pool[pool["bag_id"].isin(before) & pool["selected"]]
        assert (twice["times_selected"] == 2).all() and (pool["times_selected"] <= 2).all()
        assert np.isfinite(view.frame[["x", "y"]].to_numpy()).all()
        # true classes inside the negatives never include the class itself
        assert view.contents[: len(pool), int(views.run_classes(store, run)[c])].sum() == 0
    assert not any(name.startswith("epoch_0001.") for name in store.artifact_names(run.id))
    assert store.has_artifact(run.id, CLASS_POOL_FILE.format(epoch=1, c=2))


def test_the_inspect_page_offers_the_classes_of_a_multilabel_run():
    store = RunStore()
    run_id = run_experiment(CFG, store).run_id
    app = AppTest.from_file(str(APP), default_timeout=90)
    app.switch_page("app_pages/inspect.py")
    app.query_params["run"] = str(run_id)
    app = app.run()
    assert not app.exception, [e.value for e in app.exception]
    chooser = next(s for s in app.selectbox if s.label == "Class")
    assert list(chooser.options) == ["0", "5", "8"]  # shown by name
    chooser.set_value(2)
    app = app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not any("no saved pool" in w.value for w in app.warning)
    assert app.session_state[f"class_{run_id}"] == 2


def test_the_runs_and_compare_pages_show_a_multilabel_run(monkeypatch):
    store = RunStore()
    ids = [
        run_experiment(CFG.replace(sampler=s, epochs=1, save_embeddings="none"), store).run_id
        for s in ("random", "margin")
    ]
    for page, params in (
        ("app_pages/runs.py", {"run": str(ids[0])}),
        ("app_pages/compare.py", {"runs": f"{ids[0]},{ids[1]}"}),
    ):
        app = AppTest.from_file(str(APP), default_timeout=90)
        app.switch_page(page)
        for key, value in params.items():
            app.query_params[key] = value
        app = app.run()
        assert not app.exception, (page, [e.value for e in app.exception])
    verdicts = app.dataframe[0].value  # compare: margin vs random over the three classes of the one model
    assert list(verdicts["sampler"]) == ["margin"]
    assert verdicts["classes"].item() == 3  # each class of the one model is one paired difference vs random
    runs = [store.get_run(i).result["per_class"] for i in ids]
    mean_delta = sum(runs[1][n]["ap"] - runs[0][n]["ap"] for n in ("0", "5", "8")) / 3
    shown = verdicts["these classes: mean ΔAP [95% CI]"].item()  # main's two claims: the pooled t over these classes
    assert float(shown.split()[0]) == pytest.approx(mean_delta, abs=5e-5)


def test_two_multilabel_runs_side_by_side_compare_one_classs_choices():
    """Two samplers' multi-label runs of one setting and seed: for the chosen class, the same negatives; Inspect's
    side-by-side view shows both maps and how far their choices of that class's negatives agree."""
    store = RunStore()
    badge = run_experiment(CFG, store).run_id
    random_run = run_experiment(CFG.replace(sampler="random"), store).run_id
    binary = run_experiment(RunConfig(dataset="digits", target_class=5, epochs=1, bag_size=2, seed=1), store).run_id
    assert [r.id for r in views.matching_runs(store, store.get_run(badge))] == [random_run]  # not the binary run
    assert views.matching_runs(store, store.get_run(binary)) == []
    c = 1  # class "5"
    a, b = views.class_epoch_view(store, badge, 2, c), views.class_epoch_view(store, random_run, 2, c)
    np.testing.assert_array_equal(np.sort(a.pool["bag_id"]), np.sort(b.pool["bag_id"]))  # the same negatives
    overlap = views.selection_overlap(a, views.aligned_view(b, a))
    picks = [store.load_class_picks(run, 2).picks(c) for run in (badge, random_run)]
    both = set(picks[0].tolist()) & set(picks[1].tolist())
    assert (overlap.chosen_a, overlap.chosen_b, overlap.both) == (len(picks[0]), len(picks[1]), len(both))

    app = AppTest.from_file(str(APP), default_timeout=90)
    app.switch_page("app_pages/inspect.py")
    app.query_params["run"], app.query_params["with"] = str(badge), str(random_run)
    app.session_state[f"class_{badge}"] = c
    app = app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.warning, [w.value for w in app.warning]  # the partner is accepted, not refused
    shown = {m.label: m.value for m in app.metric}
    assert shown["chosen by both"] == f"{len(both):,}"
    assert shown["Jaccard"] == f"{len(both) / len(set(picks[0].tolist()) | set(picks[1].tolist())):.2f}"


def test_how_one_classs_selection_changes_from_epoch_to_epoch():
    store = RunStore()
    run_id = run_experiment(CFG.replace(sampler="random", epochs=3, save_embeddings="none"), store).run_id
    for c in range(3):
        picks = [set(store.load_class_picks(run_id, epoch).picks(c).tolist()) for epoch in (1, 2, 3)]
        changes = views.selection_changes(store, run_id, c)
        assert changes["epoch"].tolist() == [1, 2, 3]
        assert changes["selected"].tolist() == [len(p) for p in picks]
        for row, before, now in zip(changes.itertuples(), [None, *picks], picks):
            if before is not None:
                assert (row.kept, row.new) == (len(now & before), len(now - before))
                assert row.overlap == pytest.approx(len(now & before) / len(now | before))
