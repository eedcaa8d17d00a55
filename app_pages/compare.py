"""Compare samplers: per-class AP/AUC, delta vs random (the paper's Figure 1), Table 1, wins, time."""

import plotly.express as px
import streamlit as st

from weakneg_core import comparison
from weakneg_core.store import open_store

store = open_store()
st.title("Compare samplers")
sweep_param, runs_param = st.query_params.get("sweep"), st.query_params.get("runs")

if sweep_param:
    st.caption(f"Runs of sweep `{sweep_param}` (from the link).")
    frame = comparison.runs_frame(store, sweep_id=sweep_param)
elif runs_param:
    ids = [int(part) for part in runs_param.split(",") if part.strip().isdigit()]
    st.caption(f"Runs {', '.join(map(str, ids))} (from the link).")
    frame = comparison.runs_frame(store, run_ids=ids)
else:
    everything = comparison.runs_frame(store)
    if everything.empty:
        st.info("No finished runs yet. Run a few samplers (and `random`) on the same classes and seeds, e.g. "
                "with a sweep, then come back.")
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
        chosen = everything["sweep_id"] == st.selectbox("Sweep", sweeps)
    else:
        ids = st.multiselect("Runs", everything["id"].tolist(), default=everything["id"].tolist()[-12:],
                             format_func=lambda i: f"run {i}")
        chosen = everything["id"].isin(ids)
    frame = everything[chosen].reset_index(drop=True)  # the rows already read, not a second query

if frame.empty:
    st.warning("No finished runs match. Only finished runs are compared.")
    st.stop()

samplers = sorted(frame["sampler"].unique())
st.caption(f"{len(frame)} finished runs · {frame['target_name'].nunique()} classes · samplers: {', '.join(samplers)}"
           f" · seeds: {', '.join(map(str, sorted(frame['seed'].unique())))}")
per_class = comparison.per_class(frame)
delta = comparison.delta_vs_random(frame)
won = comparison.wins(delta)
table = comparison.table1(frame)

st.subheader("Table 1: means over classes")
st.dataframe(table, hide_index=True, column_config={
    "mAP": st.column_config.NumberColumn(format="%.3f"), "mAUC": st.column_config.NumberColumn(format="%.3f"),
    "d_prime": st.column_config.NumberColumn("d'", format="%.2f"),
    "improved": st.column_config.TextColumn("improved AP vs random (classes)")})
downloads = st.columns(3)
downloads[0].download_button("Table 1 (CSV)", table.to_csv(index=False), "table1.csv", "text/csv",
                             icon=":material/download:")
downloads[1].download_button("Per class (CSV)", per_class.to_csv(index=False), "per_class.csv", "text/csv",
                             icon=":material/download:")
downloads[2].download_button("All runs (CSV)", frame.to_csv(index=False), "runs.csv", "text/csv",
                             icon=":material/download:")
if not won.empty:
    st.markdown("  \n".join(f"**{row.sampler}**: {row.summary} (AUC: {row.improved_auc} of {row.classes})"
                            for row in won.itertuples()))

metric = st.radio("Metric", ["AP", "AUC"], horizontal=True)
key = metric.lower()
left, right = st.columns(2)
with left:
    st.subheader(f"{metric} per class (mean ± std over seeds)")
    st.plotly_chart(px.bar(per_class, x="target_name", y=f"{key}_mean", error_y=f"{key}_std", color="sampler",
                           barmode="group", labels={"target_name": "class", f"{key}_mean": metric},
                           hover_data=["n_seeds"]).update_layout(height=380, margin={"t": 10})
                    .update_xaxes(type="category"),
                    key="per_class_chart")
with right:
    st.subheader(f"Δ{metric} vs random per class (Figure 1)")
    if delta.empty:
        st.info("No sampler has a `random` run at the same dataset, class, seed, ratio, head, model and epochs.")
    else:
        mean_delta = (delta.groupby(["target_name", "sampler"])[f"delta_{key}"].agg(["mean", "std"]).reset_index())
        st.plotly_chart(px.bar(mean_delta, x="target_name", y="mean", error_y="std", color="sampler",
                               barmode="group", labels={"target_name": "class", "mean": f"Δ{metric}"})
                        .update_layout(height=380, margin={"t": 10}).update_xaxes(type="category")
                        .add_hline(y=0, line_color="#334155"),
                        key="delta_chart")

st.subheader("Time per sampler")
spent = comparison.cost(frame)
st.dataframe(spent, hide_index=True, column_config={
    column: st.column_config.NumberColumn(format="%.3f") for column in spent.columns if column.endswith("_s")})
with st.expander("Per-class table"):
    st.dataframe(per_class, hide_index=True)
