"""What a demanding user found on the pages (issue 25), in Streamlit's AppTest: Sweeps' Write report works and the
report is still shown on a fresh load; launching a sweep switches the progress panel to it; Inspect says when a
link's epoch, bag, partner run, selection or card page does not exist instead of correcting it silently; a named
selection opens by link as a sortable table with a CSV; the run table shows sampler parameters; notes keep their
line breaks; typed text reaches Markdown escaped (issue 26.3; the Chromium test renders it)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_app_pages import APP, lab, no_exceptions, open_page, texts  # noqa: F401 (lab is a fixture)
from test_app_sweeps import add_finished_sweep

from weakneg import named_selections, views
from weakneg.config import RunConfig
from weakneg.store import CANCELLED, RunStore
from weakneg.views import code, plain
from weakneg.views.text import JOINER


# --- text a person typed ---------------------------------------------------------------------------------------------
def test_plain_escapes_every_markdown_trigger_and_keeps_line_breaks():
    # by hand: every ASCII punctuation character gets a backslash, letters, digits and spaces do not; an invisible
    # word joiner (J) after http:, www and @ stops GFM's autolinks, which are found after escapes are resolved
    j = JOINER
    assert plain("[phish](https://evil.example/login)") == rf"\[phish\]\(https\:{j}\/\/evil\.example\/login\)"
    assert plain("![px](http://h/p.png)") == rf"\!\[px\]\(http\:{j}\/\/h\/p\.png\)"
    assert plain("<img src=x onerror=alert(1)>") == r"\<img src\=x onerror\=alert\(1\)\>"
    assert plain("a`![p](u)`b") == r"a\`\!\[p\]\(u\)\`b"
    assert plain("$x$ :red[y] **z**") == r"\$x\$ \:red\[y\] \*\*z\*\*"
    assert plain("www.evil.example me@evil.example") == rf"www{j}\.evil\.example me\@{j}evil\.example"
    assert plain("first line\nsecond\r\nthird") == "first line  \nsecond  \nthird"  # hard breaks, not one line
    assert plain("Größe 5 ü") == "Größe 5 ü"  # only ASCII punctuation is touched
    assert code("lab-sweep") == "`lab-sweep`" and code("a`b") == r"a\`b" and code("a\nb") == "a  \nb"


def test_a_run_named_tagged_and_annotated_with_payloads_reaches_markdown_escaped(isolated_home):
    store = RunStore()
    run_id = store.create_run(RunConfig(epochs=1).to_dict())
    name, tag = "[phish](https://evil.example/login) ![px](http://127.0.0.1:9/p.png)", "a`![p](http://h/t)`b"
    notes = "line one <b>bold</b>\nline two [x](http://evil.example)"
    store.update_run(run_id, name=name, tags=[tag], notes=notes)
    app = no_exceptions(open_page("app_pages/runs.py", {"run": str(run_id)}))
    shown = texts(app, "markdown")
    assert f"**{plain(name)}** :gray-badge[{plain(tag)}]" in shown
    assert plain(notes) in shown and "line one" in plain(notes).split("  \n")[0]  # two lines, as typed
    everything = " ".join(shown + texts(app, "caption") + texts(app, "title"))
    assert "](http" not in everything and "<b>" not in everything


# --- the run table ---------------------------------------------------------------------------------------------------
def test_the_run_table_tells_badge_variants_apart(isolated_home):
    store = RunStore()
    default = store.create_run(RunConfig(sampler="badge").to_dict())
    known = store.create_run(RunConfig(sampler="badge", sampler_params={"label": "known"}).to_dict())
    rows = views.run_rows(store, more=True).set_index("id")
    shown = views.display_rows(rows, views.DEFAULT_SHOWN)
    assert "sampler parameters" in shown.columns  # a default column now
    assert shown.loc[default, "sampler parameters"] == "label=predicted"  # BADGE's own default, said
    assert shown.loc[known, "sampler parameters"] == "label=known"
    app = no_exceptions(open_page("app_pages/runs.py"))
    assert sorted(app.dataframe[0].value["sampler parameters"]) == ["label=known", "label=predicted"]


# --- Sweeps: the report and the progress panel ---------------------------------------------------------------------
def sweeps_page() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    app.switch_page("app_pages/sweeps.py")
    return no_exceptions(app.run())


def test_write_report_shows_it_and_a_fresh_load_still_does(isolated_home):
    add_finished_sweep(RunStore())
    app = sweeps_page()
    assert not app.get("image") and not app.get("download_button")
    app.button(key="sw_report").click().run()
    no_exceptions(app)  # was: KeyError 'chart'
    folder = isolated_home / "reports" / "done"
    assert (folder / "report.md").is_file() and (folder / "figure1.png").is_file()
    assert any(f"Written to `{folder}`" in text for text in texts(app, "caption"))
    assert len(app.get("image")) == 2 and app.get("download_button")[0].proto.label == "Download report.md"
    fresh = sweeps_page()  # a refresh: a new session, nothing in session state
    assert len(fresh.get("image")) == 2 and any(f"Written to `{folder}`" in t for t in texts(fresh, "caption"))


def test_launching_a_sweep_switches_the_progress_panel_to_it(isolated_home, monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    store = RunStore()
    add_finished_sweep(store)
    app = sweeps_page()
    assert app.selectbox(key="sw_pick").value == "done" and "2/2 done" in app.get("progress")[0].proto.text
    app.multiselect(key="sw_classes").set_value(["3"])
    app.multiselect(key="sw_samplers").set_value(["random"]).run()
    app.button(key="sw_launch").click().run()
    no_exceptions(app)
    new = next(s.id for s in store.list_sweeps() if s.id != "done")
    assert app.selectbox(key="sw_pick").value == new and app.query_params["sweep"] in (new, [new])
    assert "0/1" in app.get("progress")[0].proto.text  # the new sweep's progress, not "2/2 done"
    app.button(key="sw_cancel").click().run()
    assert store.get_sweep(new).status == CANCELLED


def test_a_link_to_a_missing_sweep_says_so(isolated_home):
    add_finished_sweep(RunStore())
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.switch_page("app_pages/sweeps.py")
    app.query_params["sweep"] = "gone"
    no_exceptions(app.run())
    assert any("There is no sweep gone in this store" in w for w in texts(app, "warning"))
    assert app.selectbox(key="sw_pick").value == "done"


def test_the_sweeps_form_refuses_a_ratio_with_no_negatives(isolated_home):
    app = sweeps_page()
    app.text_input(key="sw_ratios").set_value("0.5 100").run()
    assert any("no negatives per epoch: k = round(40 / 100) = 0" in e for e in texts(app, "error"))
    assert app.button(key="sw_launch").disabled


# --- Inspect: links that name nothing are said ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, message",
    [
        ({"epoch": "99"}, "Epoch 99 is not a saved epoch of run {real} (saved: 1 to 3); showing epoch 3."),
        ({"epoch": "3", "bag": "99999"}, "Bag 99999 is not in run {real}'s pool at epoch 3."),
        ({"with": "2"}, "Run 2 cannot be shown side by side with run {real}"),
        ({"selection": "77"}, "Run {real} has no named selection 77."),
    ],
)
def test_inspect_says_what_a_link_names_that_does_not_exist(lab, params, message):  # noqa: F811
    store, real = lab
    app = no_exceptions(open_page("app_pages/inspect.py", {"run": str(real), **params}))
    assert any(message.format(real=real) in w for w in texts(app, "warning")), texts(app, "warning")
    for key in set(params) - {"epoch"}:
        assert key not in app.query_params  # the link is corrected to what is shown


def test_a_card_page_out_of_range_is_said_not_clamped(lab):  # noqa: F811
    store, real = lab
    app = no_exceptions(open_page("app_pages/inspect.py", {"run": str(real), "epoch": "3"}))
    pages = next(n for n in app.number_input if n.key == "page_chosen")
    total = int(pages.label.split("of ")[1].rstrip(")"))
    pages.set_value(total + 6).run()
    assert any(f"There is no page {total + 6} of {total}" in e for e in texts(app, "error"))
    assert next(n for n in app.number_input if n.key == "page_chosen").value == total + 6  # kept as typed


def test_a_named_selection_opens_by_link_sorted_and_exportable(lab, monkeypatch):  # noqa: F811
    store, real = lab
    monkeypatch.delenv("WEAKNEG_READONLY", raising=False)
    view = views.epoch_view(store, real, 3)
    pool = view.pool
    bags = pool["bag_id"].astype(int).tolist()[:4] + pool.loc[pool["selected"], "bag_id"].astype(int).tolist()[:3]
    saved = named_selections.save_selection(store, real, 2, bags, "[near](http://evil.example) <i>", ["hard"])
    try:
        app = no_exceptions(
            open_page("app_pages/inspect.py", {"run": str(real), "epoch": "3", "selection": str(saved.id)})
        )
        assert f"Selection {plain(saved.name)} · {len(set(bags))} bags" in texts(app, "subheader")
        assert any(
            c.endswith(f"{saved.link()}`  \n:gray-badge[hard]") for c in texts(app, "caption")
        )  # tags, a line below
        table = next(
            d.value for d in app.dataframe if "true_classes" in d.value.columns and len(d.value) == len(set(bags))
        )
        expected = views.bags_table(view, bags, "pick")
        pd.testing.assert_frame_equal(table.reset_index(drop=True), expected)
        # the reference, by hand: chosen bags first in pick order, then the others by bag id
        chosen = pool[pool["bag_id"].isin(bags) & pool["selected"]].sort_values("pick")["bag_id"].astype(int).tolist()
        others = sorted(set(bags) - set(chosen))
        assert table["bag_id"].tolist() == chosen + others and table["pick"].isna().sum() == len(others)
        app.selectbox(key="named_sort").set_value("prob").run()
        probs = next(d.value for d in app.dataframe if len(d.value) == len(set(bags)))["p_positive"].to_numpy()
        assert np.all(np.diff(probs) <= 0)
        assert any(b.proto.label == "CSV" for b in app.get("download_button"))
        app.text_input(key="named_tags").input("sevens")  # a form: typed and submitted in one go
        app.button[[b.label for b in app.button].index("Add tags")].click().run()
        assert named_selections.get_selection(store, saved.id).tags == ["hard", "sevens"]
    finally:
        named_selections.delete_selection(store, saved.id)


def test_bags_table_and_alignment_residual_by_hand(lab):  # noqa: F811
    store, real = lab
    view = views.epoch_view(store, real, 3)
    assert views.alignment_residual(view, view) == pytest.approx(0.0, abs=1e-12)
    xy = view.frame[["x", "y"]].to_numpy()
    turn = np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    moved = dataclasses.replace(view, frame=view.frame.assign(x=3 * xy @ turn[0] + 5, y=3 * xy @ turn[1] - 2))
    assert views.alignment_residual(views.aligned_view(moved, view), view) == pytest.approx(
        0.0, abs=1e-5
    )  # float32 maps
    frame = view.frame.copy()
    frame[["x", "y"]] = np.random.default_rng(0).permutation(xy)  # the same points, bags shuffled
    shuffled = views.aligned_view(dataclasses.replace(view, frame=frame), view)
    # reference by hand: both negative maps centred and scaled to unit norm, the best rotation's residual is
    # sqrt(2 - 2 * (sum of the singular values of A^T B))
    negatives = (view.frame["kind"] == "negative").to_numpy()
    a, b = frame[["x", "y"]].to_numpy()[negatives], xy[negatives]
    a, b = a - a.mean(0), b - b.mean(0)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    expected = np.sqrt(2 - 2 * np.linalg.svd(a.T @ b, compute_uv=False).sum())
    assert views.alignment_residual(shuffled, view) == pytest.approx(expected, rel=1e-6) and expected > 1.0
    missing = views.bags_table(view, [10**9])
    assert missing.empty  # a bag not in the pool is left out


# --- MIL checks: a value out of range says why instead of doing nothing --------------------------------------------
@pytest.mark.parametrize(
    "readonly, seed, epochs, message",
    [
        (False, 0, 5000, "epochs 5000 is above this server's cap of 500"),
        (False, -1, 20, "seed must be an integer >= 0, got -1"),
        (True, 0, 50, "on this read-only demo the checks run in this page with at most 20 epochs, got 50"),
    ],
)
def test_mil_checks_say_why_they_do_not_run(isolated_home, monkeypatch, readonly, seed, epochs, message):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    monkeypatch.delenv("WEAKNEG_MAX_EPOCHS", raising=False)
    if readonly:
        monkeypatch.setenv("WEAKNEG_READONLY", "1")
    else:
        monkeypatch.delenv("WEAKNEG_READONLY", raising=False)
    app = no_exceptions(open_page("app_pages/milcheck.py"))
    if readonly:
        app.selectbox[0].set_value("mean_softmax")
    app.number_input[0].set_value(seed)
    app.number_input[1].set_value(epochs)
    app.button[0].click().run()
    no_exceptions(app)
    assert any(message in e for e in texts(app, "error")), texts(app, "error")
    assert app.number_input[1].value == epochs  # kept as typed
    assert RunStore().count_runs(kind="milcheck") == 0 and "milcheck_here" not in app.session_state


# --- Launch's own-data check ------------------------------------------------------------------------------------------
def test_own_data_check_names_every_problem_and_reads_bare_names_in_the_data_folder(tmp_path, monkeypatch):
    from weakneg.views.data_check import allowed_path, check_data

    allowed = tmp_path / "data"
    allowed.mkdir()
    frame = pd.DataFrame(
        {
            "bag_id": [1, 1, 2, 2, 3, 3],
            "label": [1, 1, 7, 7, 0, 0],
            "f1": [0.1, np.nan, 0.2, 0.3, 0.4, 0.5],
            "colour": ["red", "red", "blue", "blue", "red", "blue"],
        }
    )
    frame.to_csv(allowed / "mine.csv", index=False)
    problems = check_data(allowed / "mine.csv").problems  # a text column is not a feature unless named
    assert len(problems) == 2 and "NaN" in problems[0] and "found 7" in problems[1], problems  # was: only the NaN
    named = check_data(allowed / "mine.csv", options={"feature_columns": "f1,colour"}).problems
    assert len(named) == 2 and "'colour' are not numeric" in named[0] and "found 7" in named[1], named
    monkeypatch.setenv("WEAKNEG_DATA_FOLDERS", str(allowed))
    monkeypatch.chdir(tmp_path)  # the server's working folder holds a file of the same name: never read
    frame.to_csv(tmp_path / "mine.csv", index=False)
    assert allowed_path("mine.csv") == (allowed / "mine.csv").resolve()
    with pytest.raises(Exception, match="outside the folders"):
        allowed_path("../mine.csv")
