"""Inspect negatives: the pool's gradient-embedding map per epoch, which bags the sampler chose, what they hold."""

import altair as alt
import streamlit as st

from weakneg_core import projection, views
from weakneg_core.store import open_store

store = open_store()


@st.cache_resource(show_spinner=False, max_entries=16)
def load_view(store_url: str, run_id: int, epoch: int, method: str | None) -> views.EpochView | None:
    """Kept as is (not copied: nothing here changes a view). `method` is in the key so a UMAP map that
    arrives after the PCA one replaces it."""
    return views.epoch_view(open_store(store_url), run_id, epoch)


st.title("Inspect negatives")
runs = store.list_runs(limit=200, kind="run")
if not runs:
    st.info("No runs yet: launch one first.")
    st.page_link("app_pages/launch.py", label="Launch a run", icon=":material/rocket_launch:")
    st.stop()
labels = {r["id"]: f"run {r['id']} · {r['sampler']} · class {r['target_name'] or r['target_class']} · "
                   f"{r['dataset']} ({r['status']})" for r in runs}
requested = st.query_params.get("run")
run_id = int(requested) if requested and requested.isdigit() and int(requested) in labels else runs[0]["id"]
run_id = st.selectbox("Run", list(labels), index=list(labels).index(run_id), format_func=labels.get)
st.query_params["run"] = str(run_id)
run = store.get_run(run_id)

epochs = views.inspect_epochs(store, run_id)


@st.fragment(run_every=3)
def follow_run(shown: list[int]) -> None:
    """While the run goes on, redraw the page when a new epoch (or the run's end) is recorded."""
    if views.inspect_epochs(store, run_id) != shown or store.get_run(run_id)["status"] not in ("queued", "running"):
        st.rerun()
    st.caption(f"Run {run['status']}: new epochs appear here as they finish.")


if run["status"] in ("queued", "running"):
    follow_run(epochs)
if not epochs:
    st.info("This run has no saved pool yet: it appears after the first epoch (and only when the run saves "
            "embeddings).")
    st.stop()
epoch = epochs[0] if len(epochs) == 1 else st.select_slider("Epoch", epochs, value=epochs[-1], key=f"epoch_{run_id}")
view = load_view(store.url, run_id, epoch, projection.best_method(store, run_id, epoch))
if view is None:
    st.warning(f"Epoch {epoch} has no saved pool.")
    st.stop()

controls = st.columns([2, 2, 1])
with controls[0]:
    colour_by = st.radio("Colour by", list(views.COLOUR_BY), format_func=views.COLOUR_BY.get, horizontal=True)
with controls[1]:
    class_name = (st.selectbox("True class", [c for c in view.class_names if c != run["target_name"]])
                  if colour_by == "true_class" else None)
with controls[2]:
    show_positives = st.checkbox("Show positive bags")
if view.method == "pca":
    st.caption("Showing the PCA map; the UMAP map is computed by the worker and replaces it when ready "
               "(or set WEAKNEG_MAP_METHOD=pca to keep PCA only).")

left, right = st.columns([3, 2])
with left:
    st.markdown(f"**{view.method.upper()} map of the pool's gradient embeddings, epoch {epoch}**")
    figure, trace_ids = views.map_figure(view, colour_by, class_name, show_positives)
    event = st.plotly_chart(figure, on_select="rerun", selection_mode=("points", "box", "lasso"),
                            key=f"map_{run_id}_{epoch}_{colour_by}_{show_positives}")
    picked = views.selected_bag_ids(event.selection.points if event else [], trace_ids)
with right:
    pool = view.pool
    stats = st.columns(3)
    stats[0].metric("pool", f"{len(pool):,}")
    stats[1].metric("selected", f"{int(pool['selected'].sum()):,}")
    stats[2].metric("map", view.method.upper())
    st.markdown("**What the selected negatives contain** (share of instances by true class)")
    composition = views.class_composition(view)
    long = composition.melt(id_vars=["class", "lift"], value_vars=["selected", "pool"], var_name="set",
                            value_name="share")
    st.altair_chart(alt.Chart(long).mark_bar().encode(
        x=alt.X("class:N", sort=None), xOffset="set:N", y=alt.Y("share:Q", axis=alt.Axis(format="%")),
        color=alt.Color("set:N", scale=alt.Scale(domain=["selected", "pool"], range=["#c2410c", "#94a3b8"])),
        tooltip=["class", "set", alt.Tooltip("share:Q", format=".1%"), alt.Tooltip("lift:Q", format=".2f")])
        .properties(height=200), width="stretch")
    changes = views.selection_changes(store, run_id)
    st.markdown("**How the selection changes** (overlap with the previous selection)")
    if len(changes) > 1:
        st.altair_chart(alt.Chart(changes.dropna()).mark_line(point=True).encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("overlap:Q", scale=alt.Scale(domain=[0, 1]), title="Jaccard overlap"),
            tooltip=["epoch", "selected", "kept", "new", alt.Tooltip("overlap:Q", format=".2f")])
            .properties(height=150), width="stretch")
    else:
        st.caption("One selection so far.")

if picked:
    st.subheader(f"{len(picked)} bag(s) selected on the map" + (" (first 12 shown)" if len(picked) > 12 else ""))
else:
    first = pool[pool["selected"]].sort_values("pick")["bag_id"].head(6).tolist()
    picked = first
    st.subheader("The sampler's first picks")
    st.caption("Click, box or lasso points on the map to see those bags instead.")
previews = views.bag_previews(run, view, picked, limit=12)
grid = st.columns(3)
for i, preview in enumerate(previews):
    with grid[i % 3]:
        pick = f"picked #{preview['pick'] + 1}" if preview["pick"] >= 0 else "not picked"
        caption = (f"bag {preview['bag_id']} · {preview['kind']} · {pick} · score {preview['score']:.4g} · "
                   f"p(pos) {preview['prob']:.3f}")
        if "image" in preview:
            st.image(preview["image"], caption=caption)
        else:
            st.caption(caption)
        if "waveform" in preview:
            st.audio(preview["waveform"], sample_rate=preview["sample_rate"])
        if "log_mel" in preview:
            st.image(preview["log_mel"], caption="log-mel spectrogram")
        st.caption(f"true classes inside: {preview['classes']}")
