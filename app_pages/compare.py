"""Compare samplers with paired statistics vs random: verdicts, Figure 1 with intervals, Table 1, curves, cost."""

import streamlit as st

from weakneg import comparison, curves, limits, paired_stats
from weakneg.errors import WeaknegError
from weakneg.store import open_store
from weakneg.sweep import add_seeds, parse_numbers
from weakneg.views import compare as view
from weakneg.views import code

store = open_store()
st.title("Compare samplers")
sweep_param, runs_param = st.query_params.get("sweep"), st.query_params.get("runs")
sweep_id = sweep_param  # the sweep compared, if any: it can be given more seeds below

if sweep_param:
    st.caption(f"Runs of sweep {code(sweep_param)} (from the link).")
    frame = comparison.runs_frame(store, sweep_id=sweep_param)
elif runs_param:
    ids = [int(part) for part in runs_param.split(",") if part.strip().isdigit()]
    st.caption(f"Runs {', '.join(map(str, ids))} (from the link).")
    frame = comparison.runs_frame(store, run_ids=ids)
else:
    everything = comparison.runs_frame(store)
    if everything.empty:
        st.info(
            "No finished runs yet. Run a few samplers (and `random`) on the same classes and seeds, e.g. "
            "with a sweep, then come back."
        )
        st.stop()
    how = st.radio("Compare", ["a dataset and classes", "a sweep", "chosen runs"], horizontal=True)
    if how == "a dataset and classes":
        dataset = st.selectbox("Dataset", sorted(everything["dataset"].unique()))
        names = sorted(everything.loc[everything["dataset"] == dataset, "target_name"].dropna().unique())
        classes = st.multiselect("Classes (empty: all)", names)
        chosen = (everything["dataset"] == dataset) & (everything["target_name"].isin(classes) if classes else True)
    elif how == "a sweep":
        sweeps = sorted(everything["sweep_id"].dropna().unique())
        if not sweeps:
            st.info("No finished sweep runs yet.")
            st.stop()
        sweep_id = st.selectbox("Sweep", sweeps)
        chosen = everything["sweep_id"] == sweep_id
    else:
        ids = st.multiselect(
            "Runs", everything["id"].tolist(), default=everything["id"].tolist()[-12:], format_func=lambda i: f"run {i}"
        )
        chosen = everything["id"].isin(ids)
    frame = everything[chosen].reset_index(drop=True)  # the rows already read, not a second query

if frame.empty:
    st.warning("No finished runs match. Only finished runs are compared.")
    st.stop()

metric = st.radio("Metric", ["AP", "AUC"], horizontal=True)
result = paired_stats.compare(frame, metric.lower())
st.caption(
    f"{len(frame)} finished runs · {frame['target_name'].nunique()} classes · samplers: "
    f"{', '.join(sorted(frame['sampler_id'].unique()))} · seeds: "
    f"{', '.join(map(str, sorted(frame['seed'].unique())))}"
)
if result["notice"]:
    st.warning(result["notice"], icon=":material/call_split:")
if result["unpaired_runs"]:
    st.info(
        f"No `random` run of the same setting, class and seed to pair with: runs "
        f"{', '.join(map(str, result['unpaired_runs']))}. They are left out of the statistics."
    )

st.subheader(f"{metric} vs random: verdicts per sampler")
if result["samplers"].empty:
    st.info("No sampler has a `random` run of the same setting, class and seed: nothing to pair.")
else:
    st.caption(" ".join(view.CLAIM_WORDS.values()))
    st.markdown("\n".join(f"- {line}" for line in view.verdict_lines(result)))
    st.dataframe(view.sampler_table(result), hide_index=True)
    st.subheader(f"Δ{metric} vs random per class (Figure 1, 95% intervals)")
    st.plotly_chart(view.delta_figure(result), key="delta_chart")
    with st.expander("Per class: paired differences, t-intervals, Holm-adjusted p"):
        st.dataframe(view.class_table(result), hide_index=True)

if sweep_id:
    st.subheader("More seeds for this sweep")
    st.warning(view.PEEKING_WARNING, icon=":material/warning:")
    allowed = limits.current()
    seeds_text = st.text_input(
        "Seeds to add", placeholder=f"e.g. {view.next_seeds(frame)}", key="extend_seeds", disabled=allowed.readonly
    )
    if st.button(
        f"Add these seeds to sweep {sweep_id}",
        key="extend_sweep",
        icon=":material/add:",
        disabled=allowed.readonly or not seeds_text.strip(),
    ):
        try:
            allowed.refuse_if_readonly("adding seeds")
            added, _ = add_seeds(store, sweep_id, parse_numbers(seeds_text))
            st.success(
                f"{added} new runs queued in sweep {sweep_id}; they join this comparison as they finish (reload "
                f"the page, or watch them on the Sweeps page)."
            )
        except WeaknegError as error:
            st.error(str(error))

st.subheader("Table 1: AP and AUC per class (mean ± 95% interval over seeds)")
table = comparison.table1(frame)
st.dataframe(table, hide_index=True)
downloads = st.columns(4)
downloads[0].download_button(
    "Table 1 (CSV)", table.to_csv(index=False), "table1.csv", "text/csv", icon=":material/download:"
)
downloads[1].download_button(
    f"Figure 1 {metric} (CSV)",
    result["classes"].to_csv(index=False),
    f"figure1_{metric.lower()}.csv",
    "text/csv",
    icon=":material/download:",
)
downloads[2].download_button(
    "Per sampler (CSV)",
    result["samplers"].to_csv(index=False),
    f"samplers_{metric.lower()}.csv",
    "text/csv",
    icon=":material/download:",
)
downloads[3].download_button(
    "All runs (CSV)", frame.to_csv(index=False), "runs.csv", "text/csv", icon=":material/download:"
)

st.subheader("Curves over epochs (mean ± 1 SD over runs)")
curve_label = st.radio("Curve", list(curves.CURVE_METRICS.values()), horizontal=True)
curve_metric = next(k for k, v in curves.CURVE_METRICS.items() if v == curve_label)
epochs = curves.epoch_frame(store, frame)
st.plotly_chart(view.curves_figure(curves.curves(epochs, curve_metric), curve_label), key="curves_chart")
reach = curves.time_to_full(epochs)
if not reach.empty:
    st.caption("Epoch at which each sampler's mean AP first reaches 95% of `full`'s final AP (empty: never).")
    st.dataframe(reach, hide_index=True)

st.subheader("Time per sampler")
st.caption(
    "Seconds per epoch; the extra over random is paired by setting, class and seed, and timings are only "
    "compared between runs that agree on whether maps were saved."
)
spent = comparison.cost(frame)
st.dataframe(
    spent,
    hide_index=True,
    column_config={
        column: st.column_config.NumberColumn(format="%.3f")
        for column in spent.columns
        if "s/epoch" in column or column.startswith("extra")
    },
)
