"""The Playground page in Streamlit's AppTest: it draws the chosen samplers and re-runs on every change."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from weakneg.playground import PlaygroundSettings, default_samplers, explain_choice, run_playground

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "playground.py")


def open_page(**query) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def explanations(app: AppTest) -> list[str]:
    """The per-sampler captions that say why it picked what it picked."""
    return [m.value for m in app.markdown if "** picked " in m.value or "** took the whole pool" in m.value]


def test_page_shows_each_default_sampler_with_the_engines_caption():
    app = open_page()
    assert not app.exception
    samplers = default_samplers(3)
    assert [h.value for h in app.subheader][:3] == samplers
    result = run_playground(PlaygroundSettings(), samplers)  # the page's numbers are the engine's
    epochs = PlaygroundSettings().epochs
    assert app.slider(key="pg_epoch").value == epochs  # opens on the trained models' choices
    assert explanations(app) == [explain_choice(result.world, result.runs[s], epochs) for s in samplers]
    n_pos = int(result.world.train.labels.sum())
    assert f"{n_pos} positive" in app.caption[0].value and f"k = {result.runs[samplers[0]].k}" in app.caption[0].value
    assert f"test AP {result.runs[samplers[0]].choice(epochs).ap:.3f}" in app.caption[1].value


def test_slider_change_re_runs_and_the_epoch_slider_steps_through_selections():
    app = open_page()
    before = explanations(app)
    app.slider(key="pg_overlap").set_value(0.9).run()
    assert not app.exception
    after = explanations(app)
    assert after != before
    assert app.query_params["overlap"] == "0.9"  # the URL keeps the picture's settings
    result = run_playground(PlaygroundSettings(overlap=0.9), default_samplers(3))
    app.slider(key="pg_epoch").set_value(1).run()
    first = default_samplers(3)[0]
    assert explanations(app)[0] == explain_choice(result.world, result.runs[first], 1)
    assert "after epoch 1" in app.caption[1].value
    app.slider(key="pg_epochs").set_value(2).run()  # fewer epochs than the one on show: the epoch follows
    assert not app.exception and app.slider(key="pg_epoch").value == 1


def test_url_settings_open_the_prepared_picture_and_one_sampler_is_not_enough():
    app = open_page(overlap="0.8", seed="4", samplers="random,full", epochs="1", n_bags="9999")
    assert not app.exception
    assert app.slider(key="pg_overlap").value == 0.8 and app.number_input(key="pg_seed").value == 4
    assert app.slider(key="pg_n_bags").value == 400  # out-of-range URL values are clamped to the slider
    assert [h.value for h in app.subheader][:2] == ["random", "full"]
    assert "pg_epoch" not in [s.key for s in app.slider]  # one epoch: nothing to step through
    assert "after epoch 1" in app.caption[1].value and "took the whole pool" in explanations(app)[1]
    app.multiselect(key="pg_samplers").set_value(["random"]).run()
    assert not app.exception
    assert "two or more" in app.info[0].value and not explanations(app)
