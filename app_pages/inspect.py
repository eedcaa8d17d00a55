"""Inspect negatives: why these bags? The pool's map in the space the sampler chose in, per epoch, following a
live run; what the score means; every chosen bag, sortable, filterable and exportable; single bags up close.

Links: `?run=ID` (any run, however old), `&epoch=E` (an epoch), `&bag=B` (a bag's card), `&with=ID` (another run of
the same setting and seed, side by side)."""

import math
import time

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from app_pages.map_canvas import map_canvas
from weakneg import class_maps, limits, named_selections, projection, views
from weakneg.errors import WeaknegError
from weakneg.views import plain
from weakneg.store import open_store

store = open_store()
PAGE_SIZE = 12
UMAP_WAIT_S = 300  # after a run ends, keep looking this long for the UMAP maps its worker is still computing
# (numba compiles UMAP on its first use in a worker: a minute or more on a busy machine)


@st.cache_resource(show_spinner=False, max_entries=16)
def load_view(
    store_url: str, run_id: int, epoch: int, method: str | None, c: int | None = None
) -> views.EpochView | None:
    """Kept as is (not copied: nothing here changes a view). `method` is in the key so a UMAP map that
    arrives after the PCA one replaces it. `c`: one class of a multi-label run."""
    if c is not None:
        return views.class_epoch_view(open_store(store_url), run_id, epoch, c)
    return views.epoch_view(open_store(store_url), run_id, epoch)


st.title("Inspect negatives")
recent = store.list_runs(limit=200, kind="run")
requested = st.query_params.get("run")
run = views.pick_run(store, requested, recent)
if run is None:
    if requested is None:
        st.info("No runs yet: launch one first.")
        st.page_link("app_pages/launch.py", label="Launch a run", icon=":material/rocket_launch:")
    else:
        st.error(f"There is no run {plain(requested)}: it may have been deleted. Pick one on the Runs page.")
        st.page_link("app_pages/runs.py", label="All runs", icon=":material/list:")
    st.stop()
choices = {r.id: r for r in recent} | {run.id: run}  # an old run from a link joins the recent ones


def label(run_id: int) -> str:
    r = choices[run_id]
    name = f"{r.name} · " if r.name else ""
    return f"run {run_id} · {name}{r.sampler} · class {r.target_name or r.target_class} · {r.dataset} ({r.status})"


ids = sorted(choices, reverse=True)
run_id = st.selectbox("Run", ids, index=ids.index(run.id), format_func=label)
if run_id != run.id:  # another run chosen: its own link, latest epoch
    st.query_params.clear()
    st.query_params["run"] = str(run_id)
    st.rerun()
st.query_params["run"] = str(run_id)
active = run.status in ("queued", "running")
classes = views.run_classes(store, run)  # a multi-label run: the map, picks and cards are one class's negatives
chosen_class = None
if classes:
    chosen_class = st.selectbox(
        "Class", range(len(classes)), format_func=classes.__getitem__, key=f"class_{run_id}",
        help="One model for every class: each class has its own negatives (the bags without it), chosen each epoch.",
    )  # fmt: skip


def saved_epochs() -> list[int]:
    return views.pool_epochs(store, run_id, chosen_class)


def best_method(epoch: int, of_run: int | None = None) -> str | None:
    """The best stored map of this run's (or `of_run`'s) epoch: of the chosen class in a multi-label run."""
    shown_run = run_id if of_run is None else of_run
    if chosen_class is not None:
        return class_maps.best_method(store, shown_run, epoch, chosen_class)
    return projection.best_method(store, shown_run, epoch)


epochs = saved_epochs()

if not epochs:
    if active:
        st.info("This run's first map appears here when its first epoch finishes.")
    elif (run.config or {}).get("save_embeddings") == "none":
        st.info(
            "This run saved no pool arrays (saved embeddings: none), so there is no map to draw. Launch with "
            "'all' or 'last' to see one."
        )
    else:
        st.info(f"This run ({run.status}) recorded no epoch with a saved pool.")

# --- the epoch: follows a live run unless the person moved the slider --------------------------------------------
follow_key, slider_key = f"follow_{run_id}", f"epoch_{run_id}"
if epochs:
    linked = st.query_params.get("epoch")
    if slider_key not in st.session_state:
        valid = linked is not None and linked.isdigit() and int(linked) in epochs
        if linked is not None and not valid:  # said, not corrected silently
            st.warning(
                f"Epoch {plain(linked)} is not a saved epoch of run {run_id} (saved: {epochs[0]} to {epochs[-1]}); "
                f"showing epoch {epochs[-1]}.",
                icon=":material/help:",
            )
        start = int(linked) if valid else epochs[-1]
        st.session_state[slider_key] = start
        st.session_state[follow_key] = start == epochs[-1]
    elif st.session_state.get(follow_key, True) or st.session_state[slider_key] not in epochs:
        st.session_state[slider_key] = epochs[-1]

    def moved() -> None:
        st.session_state[follow_key] = st.session_state[slider_key] == epochs[-1]

    if len(epochs) == 1:
        epoch = epochs[0]
    else:
        epoch = st.select_slider(
            "Epoch",
            epochs,
            key=slider_key,
            on_change=moved,
            help="Follows the newest epoch while the run goes on, until you move it.",
        )
    if active and st.session_state.get(follow_key, True):
        # following a live run: the link names no epoch, so a tab reconnecting after a server restart (session
        # state gone) follows the newest epoch again instead of pinning the one it last showed
        st.query_params.pop("epoch", None)
    else:
        st.query_params["epoch"] = str(epoch)
    method = best_method(epoch)
else:
    epoch, method = None, None

if chosen_class is None:  # a binary run's worker draws its UMAP maps after its epochs
    waiting_for_umap = bool(
        method == "pca"
        and projection.map_method() == "umap"
        and run.finished_at
        and time.time() - run.finished_at < UMAP_WAIT_S
    )
else:  # a class's UMAP maps are drawn on request (the button below the map)
    waiting_for_umap = method == "pca" and class_maps.drawing(store, run_id, chosen_class)


@st.fragment(run_every=3 if active or waiting_for_umap else None)
def follow_run(shown_epochs: list[int], shown_method: str | None) -> None:
    """While the run goes on (or its UMAP maps are still coming), redraw the page when something new lands."""
    now = store.get_run(run_id)
    if (
        saved_epochs() != shown_epochs
        or (now and now.status != run.status)
        or (epoch is not None and best_method(epoch) != shown_method)
    ):
        st.rerun()
    if active:
        st.caption(f"Run {run.status}: new epochs appear here as they finish.")
    elif waiting_for_umap:
        who = "the run's worker" if chosen_class is None else "a background process"
        st.caption(f"The UMAP map is being computed by {who}; it replaces the PCA map when it lands.")


if active or waiting_for_umap:
    follow_run(epochs, method)
if not epochs:
    st.stop()
view = load_view(store.url, run_id, epoch, method, chosen_class)
if view is None:
    st.warning(f"Epoch {epoch} has no saved pool.")
    st.stop()

# --- the map -----------------------------------------------------------------------------------------------------
controls = st.columns([5, 3, 2])
with controls[0]:
    colour_by = st.radio(
        "Colour by", list(views.COLOUR_BY), format_func=views.COLOUR_BY.get, horizontal=True, key="colour_by"
    )
with controls[1]:
    class_name, scale = None, "rank"
    if colour_by == "true_class":
        class_name = st.selectbox("True class", [c for c in view.class_names if c != run.target_name])
    elif colour_by == "score":
        scale = st.radio(
            "Score scale",
            list(views.SCALES),
            horizontal=True,
            key="score_scale",
            format_func=lambda s: {"rank": "rank", "log": "log"}[s],
            help="Rank survives outliers (one huge score cannot flatten the rest); log keeps sizes.",
        )
with controls[2]:
    show_positives = st.checkbox(
        "Positive bags",
        key="show_positives",
        help="Crosses, drawn inside the negatives' ranges (the negatives are not rescaled).",
    )

sampler = run.sampler
label_text = view.extra.get("grad_label", "known")
left, right = st.columns([3, 2])
with left:
    st.markdown(
        f"**{view.method.upper()} map of the pool's last-layer gradients at the {label_text} label, epoch {epoch}**"
    )
    picked = map_canvas(
        view, colour_by, class_name, show_positives, scale, key=f"map_{run_id}_{epoch}_{colour_by}_{show_positives}"
    )
    st.caption(
        "Click a bag to open its card; drag a lasso around bags to take every bag inside (shift-drag: a "
        "box); double-click clears. Scroll to zoom, Alt-drag to pan. Chosen bags have a dark ring whatever "
        "the colouring."
    )
    if show_positives:
        (xr, yr) = views.figures.map_domain(view)
        positives = view.frame[view.frame["kind"] == "positive"]
        outside = int((~positives["x"].between(*xr) | ~positives["y"].between(*yr)).sum())
        if outside:
            st.caption(f"{outside} of {len(positives)} positive bags lie outside the negatives' ranges (not drawn).")
    drawable = chosen_class is not None and view.method == "pca" and not active and not waiting_for_umap
    if drawable and not limits.current().readonly:
        if st.button(
            "Draw this class's UMAP maps",
            help="One model, one map per class: drawn on request (a minute or so), for every saved epoch, in the "
            "background; the PCA map stays until they land. From a terminal: `weakneg class-maps RUN --class NAME`.",
        ):
            class_maps.start(store, run_id, classes[chosen_class], chosen_class)
            st.rerun()
    st.info(views.score_meaning(sampler), icon=":material/help:")
with right:
    pool = view.pool
    stats = st.columns(3)
    stats[0].metric("pool", f"{len(pool):,}")
    stats[1].metric("selected", f"{int(pool['selected'].sum()):,}")
    stats[2].metric("map", view.method.upper())
    st.markdown(
        "**What the selected negatives contain** (share by true class)",
        help="Bags made from labelled images (digits, Fashion-MNIST, CIFAR-10): the share of their instances. "
        "Natural bags (clips, the MIL sets, your own data): the share of the bags' labels.",
    )
    composition = views.class_composition(view)
    long = composition.melt(
        id_vars=["class", "lift"], value_vars=["selected", "pool"], var_name="set", value_name="share"
    )
    # plain Vega-Lite specs: Altair's validation of the same charts cost a few hundred ms on every rerun
    st.vega_lite_chart(
        long,
        {
            "mark": "bar",
            "height": 200,
            "encoding": {
                "x": {"field": "class", "type": "nominal", "sort": None},
                "xOffset": {"field": "set"},
                "y": {"field": "share", "type": "quantitative", "axis": {"format": "%"}},
                "color": {
                    "field": "set",
                    "type": "nominal",
                    "scale": {"domain": ["selected", "pool"], "range": ["#c2410c", "#94a3b8"]},
                },
                "tooltip": [
                    {"field": "class"},
                    {"field": "set"},
                    {"field": "share", "type": "quantitative", "format": ".1%"},
                    {"field": "lift", "type": "quantitative", "format": ".2f"},
                ],
            },
        },
        width="stretch",
    )
    changes = views.selection_changes(store, run_id, chosen_class)
    st.markdown("**How the selection changes** (overlap with the previous selection)")
    if len(changes) > 1:
        st.vega_lite_chart(
            changes.dropna(),
            {
                "mark": {"type": "line", "point": True},
                "height": 150,
                "encoding": {
                    "x": {"field": "epoch", "type": "quantitative", "axis": {"tickMinStep": 1, "format": "d"}},
                    "y": {"field": "overlap", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": "Jaccard"},
                    "tooltip": [
                        {"field": "epoch"},
                        {"field": "selected"},
                        {"field": "kept"},
                        {"field": "new"},
                        {"field": "overlap", "type": "quantitative", "format": ".2f"},
                    ],
                },
            },
            width="stretch",
        )
    else:
        st.caption("One selection so far.")


@st.cache_resource(show_spinner=False, max_entries=16)
def load_membership(store_url: str, run_id: int) -> views.Membership | None:
    """The bag membership saved with the run's epoch-0 arrays (never changes once written)."""
    return views.membership_of(open_store(store_url), run_id)


@st.cache_resource(show_spinner=False, max_entries=16)
def load_evidence(store_url: str, run_id: int, epoch: int) -> views.EpochEvidence | None:
    return views.evidence_of(open_store(store_url), run_id, epoch)


def evidence_chart(instances: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Each instance's p(positive), the driving instance's in orange, and beside it (attention head) its attention
    weight: the data and a plain Vega-Lite spec (no Altair validation on every rerun)."""
    rows = [
        instances.assign(
            measure="p(positive)",
            value=instances["p_positive"],
            series=instances["drives"].map({True: "p(positive), driving", False: "p(positive)"}),
        )
    ]
    if "attention" in instances:
        rows.append(instances.assign(measure="attention", value=instances["attention"], series="attention"))
    long = pd.concat(rows, ignore_index=True)[["instance", "measure", "value", "series"]]
    series = ["p(positive)", "p(positive), driving", "attention"]
    return long, {
        "mark": "bar",
        "height": 170,
        "encoding": {
            "x": {
                "field": "instance",
                "type": "ordinal",
                "title": "instance",
                "axis": {"labelAngle": 0, "labelOverlap": True},
            },
            "xOffset": {"field": "measure", "type": "nominal"},
            "y": {"field": "value", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": None},
            # no legend: the caption above the cards says the colours (a legend squeezes the bars)
            "color": {
                "field": "series",
                "type": "nominal",
                "legend": None,
                "scale": {"domain": series, "range": ["#94a3b8", "#c2410c", "#1e3a8a"]},
            },
            "tooltip": [
                {"field": "instance"},
                {"field": "measure"},
                {"field": "value", "type": "quantitative", "format": ".3f"},
            ],
        },
    }


# --- two runs side by side: another run of the same setting and seed, at the same epoch ---------------------------
partners = {r.id: r for r in views.matching_runs(store, run)}
asked_with = st.query_params.get("with")
if asked_with is not None and not (asked_with.isdigit() and int(asked_with) in partners):  # said, not ignored
    st.warning(
        f"Run {plain(asked_with)} cannot be shown side by side with run {run_id}: only a run of the same setting "
        "and seed, with saved maps, shares its pool"
        + (f" (here: runs {', '.join(map(str, partners))})." if partners else "; no other run does."),
        icon=":material/help:",
    )
    st.query_params.pop("with", None)
if partners:
    st.subheader("Side by side with another sampler on the same pool")
    linked_with = st.query_params.get("with")
    options = [None, *partners]
    start = int(linked_with) if linked_with and linked_with.isdigit() and int(linked_with) in partners else None
    with_key = f"with_{run_id}"
    if with_key not in st.session_state:
        st.session_state[with_key] = start
    also_differs = {
        i: [d for d in views.differences(run, partner) if d != "sampler"] for i, partner in partners.items()
    }
    other_id = st.selectbox(
        "Compare with",
        options,
        key=with_key,
        format_func=lambda i: (
            "(none)"
            if i is None
            else f"run {i} · {partners[i].sampler} ({partners[i].status})"
            + (f" · also differs in {', '.join(also_differs[i])}" if also_differs[i] else "")
        ),
        help="Runs of the same setting and seed (same dataset, target, ratio, bag size, instances and seed): the "
        "same pool of bags, chosen by another sampler.",
    )
    if other_id is None:
        st.query_params.pop("with", None)
    else:
        st.query_params["with"] = str(other_id)
        other = partners[other_id]
        other_view = (
            load_view(store.url, other_id, epoch, best_method(epoch, other_id), chosen_class)
            if epoch in views.pool_epochs(store, other_id, chosen_class)
            else None
        )
        if other_view is None:
            st.info(f"Run {other_id} saved no pool at epoch {epoch}: pick an epoch both runs saved.")
        else:
            other_view = views.aligned_view(other_view, view)
            overlap = views.selection_overlap(view, other_view)
            numbers = st.columns(4)
            numbers[0].metric("Jaccard", f"{overlap.jaccard:.2f}", help="Bags both chose / bags either chose.")
            numbers[1].metric("chosen by both", f"{overlap.both:,}")
            numbers[2].metric(f"only run {run_id} ({sampler})", f"{overlap.chosen_a - overlap.both:,}")
            numbers[3].metric(f"only run {other_id} ({other.sampler})", f"{overlap.chosen_b - overlap.both:,}")
            sides, domain = st.columns(2), views.shared_domain(view, other_view)
            for side, (shown, shown_run) in zip(sides, ((view, run), (other_view, other))):
                with side:
                    st.markdown(
                        f"**Run {shown_run.id} · {shown_run.sampler}**: {shown.method.upper()} map, "
                        f"epoch {epoch}, {int(shown.pool['selected'].sum()):,} chosen (ringed)"
                    )
                    picked_here = map_canvas(
                        shown,
                        colour_by,
                        class_name,
                        show_positives,
                        scale,
                        height=420,
                        key=f"pair_{shown_run.id}_{epoch}_{colour_by}_{show_positives}",
                        domain=domain,
                    )
                    picked = picked_here or picked  # a bag picked on either map opens its card below
            st.caption(
                f"Run {other_id}'s map is rotated, scaled and shifted onto run {run_id}'s (Procrustes over the "
                "negative bags both hold), on the same ranges. Only rotation, scale and shift are matched: where the "
                "shapes differ, the two models see those bags differently, so compare neighbourhoods, not exact "
                f"places (shape difference after alignment: {views.alignment_residual(other_view, view):.2f}; 0 = "
                "the same shape, about 1.4 = shapes with nothing in common)."
            )
            st.markdown(f"**Bags only one run chose** (A = run {run_id}, B = run {other_id}; each run's own score)")
            st.dataframe(
                overlap.only,
                hide_index=True,
                width="stretch",
                height=240,
                column_config={
                    "bag_id": st.column_config.NumberColumn("bag", format="%d"),
                    "chosen_by": st.column_config.TextColumn("chosen by"),
                    "pick": st.column_config.NumberColumn("pick order there"),
                    "score_a": st.column_config.NumberColumn(f"score A ({sampler})", format="%.4g"),
                    "score_b": st.column_config.NumberColumn(f"score B ({other.sampler})", format="%.4g"),
                    "p_positive_a": st.column_config.NumberColumn("p(pos) A", format="%.3f"),
                    "p_positive_b": st.column_config.NumberColumn("p(pos) B", format="%.3f"),
                    "true_classes": st.column_config.TextColumn("true classes inside"),
                },
            )


def bag_cards(bag_ids: list[int], key: str) -> None:
    """Cards of the bags, PAGE_SIZE at a time: the bag (read from the files the run saved), its instances'
    evidence with the instance that drives the bag's prediction highlighted."""
    pages = max(1, math.ceil(len(bag_ids) / PAGE_SIZE))
    page = 1
    if pages > 1:
        # no bounds on the box: a page out of range is said, not clamped without a word
        page = int(st.columns([1, 4])[0].number_input(f"Page (of {pages})", value=1, step=1, key=f"page_{key}"))
        if not 1 <= page <= pages:
            st.error(f"There is no page {page} of {pages}: choose a page from 1 to {pages}.")
            return
    shown = bag_ids[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    previews = {
        p["bag_id"]: p
        for p in views.bag_previews(
            run,
            view,
            shown,
            limit=PAGE_SIZE,
            membership=load_membership(store.url, run_id),
            evidence=load_evidence(store.url, run_id, epoch),
        )
    }
    if any(p["rebuilt"] for p in previews.values()):
        st.caption("This run was saved before bag membership was, so its data were rebuilt to draw these bags.")
    if previews and not any("instances" in p for p in previews.values()):
        st.caption("This epoch was saved before per-instance evidence was: no instance probabilities to show.")
    elif previews:
        st.caption(
            f"{views.drives_text(run.config.get('head', 'mean_softmax'))} Bars: each instance's "
            f"p(positive) on its own (grey; the driving instance's in orange)"
            f"{', and its attention weight (navy)' if run.config.get('head') == 'attention' else ''}."
        )
    grid = st.columns(3)
    for i, bag_id in enumerate(b for b in shown if b in previews):
        preview = previews[bag_id]
        with grid[i % 3]:
            pick = f"picked #{preview['pick'] + 1}" if preview["pick"] >= 0 else "not picked"
            caption = (
                f"bag {preview['bag_id']} · {preview['kind']} · {pick} · score {preview['score']:.4g} · "
                f"p(pos) {preview['prob']:.3f}"
            )
            if "image" in preview:
                st.image(preview["image"], caption=caption)
            else:
                st.caption(caption)
            if "unreadable" in preview:
                st.warning(preview["unreadable"])
            if "waveform" in preview:
                st.audio(preview["waveform"], sample_rate=preview["sample_rate"])
            if "log_mel" in preview:
                st.image(preview["log_mel"], caption="log-mel spectrogram")
            if "instances" in preview:
                instances = preview["instances"]
                st.vega_lite_chart(*evidence_chart(instances), width="stretch", key=f"evidence_{key}_{bag_id}")
                top = instances[instances["drives"]].iloc[0]
                weight = f", attention {top['attention']:.2f}" if "attention" in instances else ""
                st.caption(
                    f"driving instance: #{int(top['instance'])} of {len(instances)} "
                    f"(p(positive) {top['p_positive']:.3f}{weight})"
                )
            st.caption(f"true classes inside: {plain(preview['classes'])}")


# --- bags picked on the map, a named selection, or the link's bag ---------------------------------------------------
def scroll_to(anchor: str, nonce: str) -> None:
    """Bring the cards into view after a pick on the map (they sit below the fold); `nonce` changes with the pick so
    the script runs once per pick, not on every rerun."""
    components.html(
        f"<script>/* {nonce} */ const target = window.parent.document.getElementById({anchor!r});"
        "if (target) target.scrollIntoView({behavior: 'smooth', block: 'start'});</script>",
        height=0,
    )


def bag_list(bag_ids: list[int], key: str, file_name: str) -> list[int]:
    """A box, lasso or named selection as a table like the chosen bags': sortable, CSV; returns the sorted ids."""
    columns = st.columns([2, 1])
    order = columns[0].selectbox("Sort by", list(views.SORTS), format_func=views.SORTS.get, key=f"{key}_sort")
    table = views.bags_table(view, bag_ids, order)
    columns[1].download_button(
        "CSV", lambda: table.to_csv(index=False), file_name, "text/csv", icon=":material/download:", key=f"{key}_csv"
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(260, 38 + 35 * len(table)),
        column_config={
            "bag_id": st.column_config.NumberColumn("bag", format="%d"),
            "pick": st.column_config.NumberColumn("pick order (empty: not chosen)"),
            "score": st.column_config.NumberColumn("score", format="%.4g"),
            "p_positive": st.column_config.NumberColumn("p(positive)", format="%.3f"),
            "true_classes": st.column_config.TextColumn("true classes inside"),
        },
    )
    return table["bag_id"].tolist()


locked = limits.current().readonly
named = None
new_pick = bool(picked) and picked != st.session_state.get("inspect_last_pick")
st.session_state["inspect_last_pick"] = picked
if new_pick:  # a new pick on the map replaces the named selection the link opened
    st.query_params.pop("selection", None)
selection_param = st.query_params.get("selection")
if selection_param is not None:  # the named selection wins over the map's pick it was saved from
    named = named_selections.get_selection(store, int(selection_param)) if selection_param.isdigit() else None
    if named is None or named.run_id != run_id:
        st.warning(f"Run {run_id} has no named selection {plain(selection_param)}.", icon=":material/help:")
        st.query_params.pop("selection", None)
        named = None
if named is not None:
    picked = []
linked_bag = st.query_params.get("bag")
if not picked and named is None and linked_bag is not None:
    if linked_bag.isdigit() and int(linked_bag) in set(view.frame["bag_id"]):
        picked = [int(linked_bag)]
    else:
        st.warning(f"Bag {plain(linked_bag)} is not in run {run_id}'s pool at epoch {epoch}.", icon=":material/help:")
        del st.query_params["bag"]
if new_pick and picked:  # a new pick on the map: bring its cards into view (they sit below the fold)
    scroll_to("picked-bags", ",".join(map(str, picked[:50])))
if named is not None:
    st.subheader(f"Selection {plain(named.name)} · {len(named.bag_ids)} bags", anchor="picked-bags")
    st.caption(
        f"Saved from epoch {named.epoch}, shown at epoch {epoch}. Link: `{named.link()}`"
        + ("  \n" + " ".join(f":gray-badge[{plain(t)}]" for t in named.tags) if named.tags else "")
    )
    with st.form("tag_selection", border=False):
        more = st.text_input("Add tags", key="named_tags", placeholder="tags, e.g. hard-sevens", disabled=locked)
        if st.form_submit_button("Add tags", disabled=locked):
            try:
                named_selections.tag_selection(store, named.id, views.parse_tags(more))
            except WeaknegError as error:
                st.error(plain(error))
            else:
                st.rerun()
    ordered = bag_list(named.bag_ids, "named", f"run{run_id}_selection{named.id}.csv")
    bag_cards(ordered, "picked")
elif picked and len(picked) > 1:
    st.subheader(f"{len(picked)} bag(s) picked on the map", anchor="picked-bags")
    ordered = bag_list(picked, "lasso", f"run{run_id}_epoch{epoch}_picked.csv")
    with st.form("save_selection", border=False):
        cols = st.columns([3, 2, 1], vertical_alignment="bottom")
        name = cols[0].text_input("Name this selection", key="selection_name", disabled=locked)
        tags = cols[1].text_input("Tags", key="selection_tags", placeholder="commas or spaces", disabled=locked)
        if cols[2].form_submit_button("Save", disabled=locked):
            try:
                saved = named_selections.save_selection(store, run_id, epoch, picked, name, views.parse_tags(tags))
            except WeaknegError as error:
                st.error(plain(error))
            else:
                st.query_params["selection"] = str(saved.id)
                st.rerun()
    bag_cards(ordered, "picked")
elif picked:
    st.subheader(f"Bag {picked[0]}", anchor="picked-bags")
    st.query_params["bag"] = str(picked[0])
    st.caption(f"Link to this bag: `?run={run_id}&epoch={epoch}&bag={picked[0]}`")
    bag_cards(picked, "picked")
if not (picked and len(picked) == 1) and "bag" in st.query_params:
    del st.query_params["bag"]
saved_here = named_selections.list_selections(store, run_id)
if saved_here:
    with st.expander(f"Named selections of run {run_id} ({len(saved_here)})"):
        for kept in saved_here:
            st.page_link(
                "app_pages/inspect.py",
                label=f"{plain(kept.name)} · {len(kept.bag_ids)} bags · epoch {kept.epoch}"
                + (" · " + ", ".join(plain(t) for t in kept.tags) if kept.tags else ""),
                query_params={"run": str(run_id), "epoch": str(kept.epoch), "selection": str(kept.id)},
                icon=":material/bookmark:",
            )

# --- every chosen bag: sort, filter, export ------------------------------------------------------------------------
st.subheader(f"The {int(pool['selected'].sum()):,} bags {sampler} chose at epoch {epoch}")
options = st.columns([2, 2, 1])
sort = options[0].selectbox("Sort by", list(views.SORTS), format_func=views.SORTS.get, key="chosen_sort")
true_class = options[1].selectbox("Only bags holding the true class", ["any", *view.class_names], key="chosen_class")
table = views.selection_table(view, sort, None if true_class == "any" else true_class)
options[2].download_button(
    "CSV",
    lambda: table.to_csv(index=False),  # written on click, not on every rerun
    f"run{run_id}_epoch{epoch}_chosen.csv",
    "text/csv",
    icon=":material/download:",
    key="chosen_csv",
)
if sampler == "badge":
    st.caption(
        "BADGE: *pick* is the order of the draws; *score* is D² at the moment of the pick. They disagree by "
        "design: each draw is random with probability proportional to D²."
    )
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=260,
    column_config={
        "bag_id": st.column_config.NumberColumn("bag", format="%d"),
        "pick": st.column_config.NumberColumn("pick order"),
        "score": st.column_config.NumberColumn("score", format="%.4g"),
        "p_positive": st.column_config.NumberColumn("p(positive)", format="%.3f"),
        "true_classes": st.column_config.TextColumn("true classes inside"),
    },
)
bag_cards(table["bag_id"].tolist(), "chosen")
