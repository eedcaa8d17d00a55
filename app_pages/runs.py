"""Runs: every run in a filterable table; `?run=ID` shows one run, live while it runs."""

import altair as alt
import pandas as pd
import streamlit as st

from weakneg_core import jobs, views
from weakneg_core.store import open_store

REFRESH_S = 2.0
store = open_store()


def shown(value, pattern: str) -> str:
    return "-" if value is None or pd.isna(value) else pattern.format(value)


def show_table() -> None:
    st.title("Runs")
    everything = views.run_rows(store)
    if everything.empty:
        st.info("No runs yet: start one on the Launch page.")
        st.page_link("app_pages/launch.py", label="Launch a run", icon=":material/rocket_launch:")
        return
    columns = st.columns(4)
    chosen = {}
    for column, (field, label) in zip(columns[:3], [("status", "Status"), ("dataset", "Dataset"),
                                                     ("sampler", "Sampler")]):
        with column:
            chosen[field] = st.multiselect(label, sorted(everything[field].dropna().unique()), key=f"filter_{field}")
    with columns[3]:
        text = st.text_input("Class contains", key="filter_class")
    shown = everything
    for field, values in chosen.items():
        if values:
            shown = shown[shown[field].isin(values)]
    if text:
        shown = shown[shown["class"].str.contains(text, case=False, regex=False)]
    st.caption(f"{len(shown)} of {len(everything)} runs. Click a row (or its id) to open the run. Runs go on in "
               "worker processes when the tab closes; a run whose worker was killed is marked interrupted (finished "
               "epochs kept, not resumed).")
    table = shown.assign(open=[f"runs?run={i}" for i in shown["id"]])
    event = st.dataframe(
        table[["open", "status", "progress", "dataset", "class", "sampler", "pn_ratio", "head", "seed", "epochs", "ap",
               "auc", "duration_s", "sweep", "created"]],
        hide_index=True, on_select="rerun", selection_mode="single-row", key="runs_table",
        column_config={"open": st.column_config.LinkColumn("run", display_text=r"run=(\d+)"),
                       "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1),
                       "pn_ratio": st.column_config.NumberColumn("P-N ratio"),
                       "ap": st.column_config.NumberColumn("AP", format="%.3f"),
                       "auc": st.column_config.NumberColumn("AUC", format="%.3f"),
                       "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
                       "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm")})
    if event.selection.rows:
        st.query_params["run"] = str(int(table.iloc[event.selection.rows[0]]["id"]))
        st.rerun()


def show_run(run_id: int) -> None:
    detail = views.run_detail(store, run_id)
    if detail is None:
        st.error(f"There is no run {run_id}. Pick one from the table.")
        if st.button("All runs"):
            del st.query_params["run"]
            st.rerun()
        return
    st.title(detail["title"])
    links = st.columns([1, 2, 3])
    with links[0]:
        if st.button("All runs", icon=":material/list:"):
            del st.query_params["run"]
            st.rerun()
    with links[1]:
        st.page_link("app_pages/inspect.py", label="Inspect negatives", icon=":material/scatter_plot:",
                     query_params={"run": str(run_id)})
    if detail["counts"]:
        st.caption(detail["counts"] + f" · shareable link: `?run={run_id}`")
    live_view(run_id, detail["active"])
    with st.expander("Configuration"):
        st.json(detail["config"])


def live_view(run_id: int, active: bool) -> None:
    @st.fragment(run_every=REFRESH_S if active else None)
    def progress() -> None:
        detail = views.run_detail(store, run_id)
        row, run = detail["row"], detail["run"]
        if not detail["active"] and active:  # it just ended: one full rerun stops the refreshing
            st.rerun(scope="app")
        st.progress(row["progress"], text=f"**{row['status']}** · epoch {row['epochs']}")
        if detail["active"] and st.button("Cancel run", icon=":material/stop_circle:", key="cancel"):
            status = jobs.cancel(store, run_id, grace_s=8)
            st.toast(f"run {run_id}: {status}; finished epochs are kept")
            st.rerun(scope="app")
        if run["error"]:
            (st.warning if row["status"] in ("cancelled", "interrupted") else st.error)(run["error"].splitlines()[0])
        metrics = st.columns(4)
        metrics[0].metric("AP", shown(row["ap"], "{:.3f}"))
        metrics[1].metric("ROC-AUC", shown(row["auc"], "{:.3f}"))
        metrics[2].metric("d'", shown(run["final_dprime"], "{:.2f}"))
        metrics[3].metric("duration", shown(row["duration_s"], "{:.0f} s"))
        if not detail["epochs"]:
            st.info("Waiting for the first epoch…" if detail["active"] else "No epoch was recorded.")
            return
        charts = st.columns([3, 2])
        curves = views.curves(detail["epochs"])
        loss = curves[curves["metric"].str.contains("loss")]
        quality = curves[~curves["metric"].str.contains("loss")]
        with charts[0]:
            st.altair_chart(alt.Chart(quality).mark_line(point=True).encode(
                x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")), y=alt.Y("value:Q", title="test AP / AUC"),
                color="metric:N").properties(height=220), width="stretch")
            st.altair_chart(alt.Chart(loss).mark_line(point=True).encode(
                x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")), y=alt.Y("value:Q", title="loss"),
                color="metric:N").properties(height=160), width="stretch")
        with charts[1]:
            split = views.time_split(detail["epochs"])
            st.markdown("**Where the time went**")
            st.altair_chart(alt.Chart(split).mark_bar().encode(
                x=alt.X("seconds:Q"), y=alt.Y("phase:N", sort=None),
                tooltip=["phase", alt.Tooltip("seconds:Q", format=".2f"), alt.Tooltip("share:Q", format=".0%")])
                .properties(height=160), width="stretch")
            st.dataframe(split, hide_index=True, column_config={
                "seconds": st.column_config.NumberColumn(format="%.2f"),
                "share": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent")})

    progress()


run_param = st.query_params.get("run")
if run_param is None:
    show_table()
elif not run_param.isdigit():
    st.error(f"?run= must be a run id (a number), got {run_param!r}.")
else:
    show_run(int(run_param))
