"""Inspect's engine side: the map is drawn from the embedding the sampler used, the chosen bags' table sorts and
filters, a click or a box on the map names bags, colour scales survive outliers, positives do not rescale the
negatives, every sampler's score is explained, and a link to an old run keeps working."""

import time

import numpy as np
import pytest
from app_support import record_runs
from streamlit.testing.v1 import AppTest

from sqlalchemy import update

from weakneg import views
from weakneg.liveness import identity
from weakneg.store import runs
from weakneg.config import RunConfig
from weakneg.samplers import SAMPLERS
from weakneg.train import run_experiment
from test_app_pages import APP, no_exceptions


@pytest.fixture(scope="module")
def view(lab_store):
    store, real = lab_store
    return views.epoch_view(store, real, 2)


def test_badge_maps_are_drawn_from_predicted_label_gradients(store):
    run_id = run_experiment(
        RunConfig(dataset="digits", target_class=3, sampler="badge", epochs=1, max_instances=600), store
    ).run_id
    arrays = store.load_epoch_arrays(run_id, 1)
    assert str(arrays["grad_label"]) == "predicted"
    # BADGE's first pick is the largest-norm embedding of the space it chose in, and its score is that squared norm
    norms = (arrays["pool_grad"].astype(np.float64) ** 2).sum(1)
    first = int(np.flatnonzero(arrays["pick_order"] == 0)[0])
    assert norms[first] == pytest.approx(norms.max(), rel=1e-2)
    assert arrays["scores"][first] == pytest.approx(norms[first], rel=1e-2)
    assert views.epoch_view(store, run_id, 1).extra["grad_label"] == "predicted"
    known = run_experiment(
        RunConfig(dataset="digits", target_class=3, sampler="margin", epochs=1, max_instances=600), store
    ).run_id
    assert str(store.load_epoch_arrays(known, 1)["grad_label"]) == "known"


def test_the_chosen_bags_table_sorts_filters_and_matches_the_selection(lab_store, view):
    store, real = lab_store
    chosen, scores = store.selection(real, 2)
    table = views.selection_table(view)
    assert table["bag_id"].tolist() == chosen.tolist() and table["pick"].tolist() == list(range(1, len(chosen) + 1))
    np.testing.assert_allclose(table["score"], scores, rtol=1e-6)
    by_score = views.selection_table(view, "score")
    assert by_score["score"].tolist() == sorted(scores.astype(np.float32).astype(float), reverse=True)
    by_prob = views.selection_table(view, "prob")
    assert by_prob["p_positive"].is_monotonic_decreasing
    some_class = next(c for c in view.class_names if c != "3" and any(c in t for t in table["true_classes"]))
    holding = views.selection_table(view, "pick", some_class)
    assert 0 < len(holding) <= len(table)
    assert all(some_class in [part.split("×")[0] for part in t.split(", ")] for t in holding["true_classes"])
    csv = holding.to_csv(index=False).splitlines()
    assert csv[0] == "bag_id,pick,score,p_positive,true_classes" and len(csv) == len(holding) + 1
    with pytest.raises(ValueError, match="sort must be one of"):
        views.selection_table(view, "colour")


def colours_of(points):
    return [points["palette"][i] for i in points["points"]["colour"]]


def test_the_canvas_map_marks_chosen_bags_keeps_ranges_and_names_its_colour_scale(view):
    points = views.map_points(view)
    table, pool = points["points"], view.pool
    assert table["bag"].tolist() == pool["bag_id"].astype(int).tolist()
    assert table["ring"].tolist() == pool["selected"].astype(int).tolist()  # chosen bags ringed...
    colours = colours_of(points)
    assert {c for c, s in zip(colours, table["ring"]) if s} == {"#c2410c"}
    assert {c for c, s in zip(colours, table["ring"]) if not s} == {"#cbd5e1"}
    assert points["legend"]["title"] == f"{int(pool['selected'].sum())} of {len(pool)} negatives selected"
    np.testing.assert_allclose(table["x"], pool["x"], rtol=1e-6)
    assert table["pick"].tolist() == np.where(pool["pick"] >= 0, pool["pick"] + 1, 0).tolist()
    ranked = views.map_points(view, "score", scale="rank")
    assert ranked["points"]["ring"].tolist() == table["ring"].tolist()  # ...whatever the colouring
    assert "rank" in ranked["legend"]["title"]
    scores = pool["score"].to_numpy()
    # rank colours: the top score is the scale's top colour, the lowest is not pushed to the bottom by an outlier
    assert colours_of(ranked)[int(np.argmax(scores))] == "#fde725"
    assert ranked["legend"]["high"] == "1"
    assert "symmetric log" in views.map_points(view, "score", scale="log")["legend"]["title"]
    with_positives = views.map_points(view, show_positives=True)
    n_positive = int((view.frame["kind"] == "positive").sum())
    assert len(with_positives["points"]) == len(pool) + n_positive
    assert with_positives["points"]["cross"].sum() == n_positive
    assert with_positives["x_range"] == points["x_range"]  # positives never rescale the negatives
    x_range, y_range = views.figures.map_domain(view)
    assert x_range[0] < pool["x"].min() and x_range[1] > pool["x"].max() and points["y_range"] == y_range
    # viridis by hand: the two ends are its first and last colours, NaN is grey
    assert views.figures.viridis(np.array([0.0, 1.0, np.nan])) == ["#440154", "#fde725", "#9ca3af"]
    with pytest.raises(ValueError):
        views.map_points(view, "nonsense")


def test_the_map_colours_by_true_class_counts(view):
    name = view.class_names[1]
    counts = view.class_count(name)[: len(view.pool)].astype(float)
    points = views.map_points(view, "true_class", class_name=name)
    expected = views.figures.viridis((counts - counts.min()) / ((counts.max() - counts.min()) or 1.0))
    assert colours_of(points) == expected and points["legend"]["title"] == f"{name} in bag"
    assert points["legend"]["low"] == f"{counts.min():.4g}" and points["legend"]["high"] == f"{counts.max():.4g}"


def test_every_sampler_says_what_its_score_is():
    for name in SAMPLERS:
        assert views.score_meaning(name).startswith(("Score =", "No score")), name
    assert "pick order is not the score order" in views.score_meaning("badge")


def test_an_old_runs_link_works_after_250_newer_runs(store, monkeypatch):
    old = run_experiment(RunConfig(dataset="digits", target_class=3, epochs=1, max_instances=600), store).run_id
    record_runs(store, 250)
    recent = store.list_runs(limit=200, kind="run")
    assert old not in [r.id for r in recent]
    assert views.pick_run(store, str(old), recent).id == old
    assert views.pick_run(store, "99999", recent) is None and views.pick_run(store, None, recent) == recent[0]
    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/inspect.py")
    app.query_params["run"] = str(old)
    no_exceptions(app.run())
    assert app.selectbox[0].value == old and app.query_params["run"] in (str(old), [str(old)])
    assert any(s.value.startswith("The ") and "random chose at epoch 1" in s.value for s in app.subheader)


def test_the_epoch_slider_follows_a_live_run_until_the_person_moves_it(store, monkeypatch):
    from weakneg.projection import MapMaker

    cfg = RunConfig(dataset="digits", target_class=3, epochs=2, max_instances=600)
    run_id = store.create_run(cfg.to_dict())
    run_experiment(cfg, store, run_id, on_epoch=MapMaker(store, run_id, method="pca"))
    with store.engine.begin() as db:  # staged (a finished run never runs again): running in this live process
        db.execute(
            update(runs).where(runs.c.id == run_id).values(status="running", heartbeat=time.time(), **identity())
        )
    monkeypatch.setenv("WEAKNEG_STORE", store.url)
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")

    def new_epoch(epoch):  # the worker saving another epoch (the same arrays and map: what matters is the stop)
        store.save_epoch_arrays(run_id, epoch, **store.load_epoch_arrays(run_id, 2))
        store.add_selection(run_id, epoch, *store.selection(run_id, 2))
        store.add_epoch(run_id, epoch, {"resampled": True})
        from weakneg import projection

        projection.compute_map(store, run_id, epoch, "pca", 2)

    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/inspect.py")
    app.query_params["run"] = str(run_id)
    no_exceptions(app.run())
    assert app.select_slider[0].value == 2
    new_epoch(3)
    no_exceptions(app.run())
    assert app.select_slider[0].options == ["1", "2", "3"] and app.select_slider[0].value == 3  # followed
    app.select_slider[0].set_value(1).run()
    new_epoch(4)
    no_exceptions(app.run())
    assert app.select_slider[0].value == 1 and app.query_params["epoch"] in ("1", ["1"])  # the person's choice stays
    app.select_slider[0].set_value(4).run()  # back at the newest epoch: following again
    new_epoch(5)
    no_exceptions(app.run())
    assert app.select_slider[0].value == 5


def test_true_classes_text_and_contents_rows_follow_the_bag_ids(lab_store):
    # by hand: classes present in class order, a count only above one
    counts = np.array([[1, 0, 2], [0, 0, 0], [0, 3, 1], [0, 1, 0]])
    assert views.describe_counts(counts, ["0", "5", "9"]) == ["0, 9×2", "no class", "5×3, 9", "5"]
    assert views.describe_counts(counts[:0], ["0", "5", "9"]) == []
    # each row's contents are its own bag's (a dict lookup as the reference), whatever the pool's order
    store, real = lab_store
    view = views.epoch_view(store, real, 2)
    bags = store.load_epoch_arrays(real, 0)
    row_of = {int(b): i for i, b in enumerate(bags["bag_ids"])}
    expected = bags["contents"][[row_of[int(b)] for b in view.frame["bag_id"]]]
    np.testing.assert_array_equal(view.contents, expected)
    assert view.describe([0])[0] == ", ".join(
        f"{view.class_names[c]}×{n}" if n > 1 else view.class_names[c] for c, n in enumerate(expected[0]) if n
    )
