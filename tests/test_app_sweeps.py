"""The Sweeps page in Streamlit's AppTest: grid size and estimate, validation, the 10,000-run confirmation,
launch and cancel, watching a sweep and opening it on the Compare page."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from weakneg.config import RunConfig
from weakneg.store import CANCELLED, FINISHED, RunStore
from weakneg.sweep import SweepConfig, estimate, format_duration

ROOT = Path(__file__).resolve().parents[1]


def open_page() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.switch_page("app_pages/sweeps.py")
    return app.run()


def launch_button(app: AppTest):
    return app.button(key="sw_launch")


def add_finished_sweep(store: RunStore) -> None:
    store.create_sweep(
        "done", SweepConfig(grid={"classes": [0], "samplers": ["random", "entropy"]}).to_dict(), "local", 2
    )
    for sampler, ap in (("random", 0.4), ("entropy", 0.6)):
        run_id = store.create_run(
            RunConfig(sampler=sampler, epochs=2, save_embeddings="none").to_dict(), sweep_id="done"
        )
        store.start_run(run_id, target_name="0")
        for epoch in (1, 2):
            store.add_epoch(run_id, epoch, {"ap": ap, "auc": ap, "t_score": 0.1, "t_select": 0.1})
        store.update_run(run_id, started_at=1000.0)
        store.finish_run(run_id, FINISHED)
        store.update_run(run_id, finished_at=1010.0)  # 5 s per epoch, for the estimate
    store.set_sweep_status("done", FINISHED)


def test_grid_size_estimate_and_validation():
    store = RunStore()
    add_finished_sweep(store)
    app = open_page()
    assert not app.exception
    summary = next(m.value for m in app.markdown if "runs**" in m.value)
    sweep = SweepConfig(
        base=RunConfig(epochs=3, save_embeddings="none"), grid={"classes": [0, 1], "samplers": ["random", "grad_norm"]}
    )
    # the page's estimate is the engine's: random from the finished runs (3 epochs x 5 s), grad_norm measured by a
    # probe when the page first drew (kept in the cache, so the engine's call here measures nothing again)
    guess = estimate(store, sweep.expand())
    assert summary.startswith("**4 runs**") and f"about **{format_duration(guess['wall_seconds'])}**" in summary
    assert guess["probed"] == 0 and guess["based_on"] == 2 and not launch_button(app).disabled
    random_only = estimate(store, [c for c in sweep.expand() if c.sampler == "random"], probe=False)
    assert random_only["run_seconds"] == 2 * 3 * 5.0 and guess["run_seconds"] > random_only["run_seconds"]
    assert guess["wall_seconds"] >= guess["run_seconds"] / guess["workers"]

    app.multiselect(key="sw_samplers").set_value([]).run()
    assert "'samplers' is an empty list" in app.error[0].value and launch_button(app).disabled
    app.multiselect(key="sw_samplers").set_value(["random"])
    app.text_input(key="sw_seeds").set_value("0 x").run()
    assert "cannot read 'x'" in app.error[0].value and launch_button(app).disabled


def test_big_grid_needs_the_confirmation_box():
    app = open_page()
    app.checkbox(key="sw_all_classes").check()
    app.text_input(key="sw_seeds").set_value("0-499").run()
    assert any("**10,000 runs**" in m.value for m in app.markdown)  # 10 classes x 2 samplers x 500 seeds
    assert launch_button(app).disabled and "10,000 runs" in app.warning[0].value
    app.checkbox(key="sw_confirm").check().run()
    assert not launch_button(app).disabled


def test_launch_then_cancel_from_the_page():
    app = open_page()
    app.multiselect(key="sw_classes").set_value(["3"])
    app.multiselect(key="sw_samplers").set_value(["random"]).run()
    launch_button(app).click().run()
    assert not app.exception and "launched on the local backend" in app.success[0].value
    store = RunStore()
    sweep = store.list_sweeps()[0]
    assert sweep.n_runs == 1 and sweep.config["grid"]["target_class"] == ["3"]
    assert app.query_params["sweep"] == sweep.id
    app.button(key="sw_cancel").click().run()
    assert store.get_sweep(sweep.id).status == CANCELLED  # its background driver then exits unstarted


def test_watch_a_sweep_and_open_it_in_compare():
    add_finished_sweep(RunStore())
    app = open_page()
    assert "2/2 done" in app.get("progress")[0].proto.text
    assert app.button(key="sw_cancel").disabled
    app.button(key="sw_compare").click().run()
    assert not app.exception
    assert app.query_params["sweep"] == "done" and app.title[0].value == "Compare samplers"


def test_each_chosen_sampler_gets_typed_parameter_fields():
    app = open_page()
    app.multiselect(key="sw_classes").set_value(["3"])
    app.multiselect(key="sw_samplers").set_value(["random", "badge", "mix"]).run()
    assert app.selectbox(key="sw_param_badge_label").options == ["known", "predicted"]  # a choice: a select box
    assert app.selectbox(key="sw_param_badge_label").value == "predicted"  # BADGE's default
    assert not [w for w in app.number_input if w.key.startswith("sw_param_random_")]  # random has no parameters
    app.number_input(key="sw_param_mix_w_diversity").set_value(-1.0).run()
    assert "w_diversity must be a finite number at least 0, got -1.0" in app.error[0].value
    assert launch_button(app).disabled and app.number_input(key="sw_param_mix_w_diversity").value == -1.0
    app.number_input(key="sw_param_mix_w_diversity").set_value(0.5)
    app.selectbox(key="sw_param_badge_label").set_value("known").run()
    assert not app.error and not launch_button(app).disabled
    launch_button(app).click().run()
    assert not app.exception
    store = RunStore()
    sweep = store.list_sweeps()[0]
    assert sweep.config["sampler_params"] == {"badge": {"label": "known"}, "mix": {"w_diversity": 0.5}}
    assert {c.sampler: c.sampler_params for c in SweepConfig.from_dict(sweep.config).expand()} == {
        "random": {},
        "badge": {"label": "known"},
        "mix": {"w_diversity": 0.5},
    }
    app.button(key="sw_cancel").click().run()
    assert store.get_sweep(sweep.id).status == CANCELLED


def test_a_multilabel_grid_is_one_model_per_point_and_launches_as_such():
    app = open_page()
    app.multiselect(key="sw_classes").set_value(["1", "4"])
    app.checkbox(key="sw_multilabel").check().run()
    summary = next(m.value for m in app.markdown if "runs**" in m.value)
    assert summary.startswith("**2 runs**") and "one model of 2 classes × 2 samplers" in summary  # not 2 x 2
    launch_button(app).click().run()
    assert not app.exception and "launched on the local backend" in app.success[0].value
    store = RunStore()
    sweep = store.list_sweeps()[0]
    assert sweep.n_runs == 2 and sweep.config["multilabel"] is True
    assert {cfg.target_class for cfg in SweepConfig.from_dict(sweep.config).expand()} == {"1,4"}
    app.button(key="sw_cancel").click().run()
    assert store.get_sweep(sweep.id).status == CANCELLED
