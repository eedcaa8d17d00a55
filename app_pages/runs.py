"""Runs: every run in a filterable table; `?run=ID` shows one run, live while it runs."""

import hashlib

import altair as alt
import pandas as pd
import streamlit as st

from weakneg import jobs, limits, run_actions, views
from weakneg.errors import WeaknegError
from weakneg.store import RunRecord, open_store

REFRESH_S = 2.0
store = open_store()


def shown(value, pattern: str) -> str:
    return "-" if value is None or pd.isna(value) else pattern.format(value)


def show_table() -> None:
    st.title("Runs")
    allowed = limits.current()
    if store.count_runs(kind="run") == 0:
        st.info("No runs yet: start one on the Launch page.")
        st.page_link("app_pages/launch.py", label="Launch a run", icon=":material/rocket_launch:")
        return
    if "runs_notice" in st.session_state:
        st.success(st.session_state.pop("runs_notice"))
    columns = st.columns([1, 1, 1, 3])
    # read once per rerun: the filter choices and the table's first draw share these rows
    chosen, choices = {}, views.run_rows(store, more=True)
    for column, (field, label) in zip(
        columns[:3], [("status", "Status"), ("dataset", "Dataset"), ("sampler", "Sampler")]
    ):
        with column:
            chosen[field] = st.multiselect(
                label, sorted(choices[field].dropna().unique()), key=f"filter_{field}", placeholder="all"
            )
    with columns[3]:
        query = st.text_input(
            "Search runs",
            key="runs_search",
            placeholder="words, or field:value and AP>0.7, e.g. tags:baseline class:3",
            help="Every word must match. `field:value` looks in one "
            "column (its name or header: name, tags, notes, sampler, class, seed, AP, ...); "
            "`<`, `>`, `<=`, `>=` compare numbers; a bare word matches any column.",
        )
    options = st.columns([4, 1])
    with options[0]:
        shown_columns = st.multiselect(
            "Columns",
            [c for c in views.ALL_COLUMNS if c != "id"],
            default=views.DEFAULT_SHOWN,
            format_func=views.RUN_LABELS.get,
            key="runs_columns",
        )
    with options[1]:
        archived = st.checkbox("Show archived", key="runs_archived")
    any_active = store.count_runs(status="running") + store.count_runs(status="queued") > 0
    run_table(choices, chosen, query, shown_columns, archived, allowed, REFRESH_S if any_active else 10 * REFRESH_S)


def run_table(read_rows, chosen, query, shown_columns, archived, allowed, every) -> None:
    """The table, refreshed on its own every `every` s: its first draw uses the rows the page just read, each
    refresh reads them again."""
    unused = [read_rows]

    @st.fragment(run_every=every)
    def table() -> None:
        everything = unused.pop() if unused else views.run_rows(store, more=True)
        rows = everything if archived else everything[~everything["archived"]]
        for field, values in chosen.items():
            if values:
                rows = rows[rows[field].isin(values)]
        try:
            rows = views.search_runs(rows, query)
        except ValueError as error:
            st.error(str(error))
        hidden = int(everything["archived"].sum())
        note = f" ({hidden} archived, hidden)" if hidden and not archived else ""
        st.caption(
            f"{len(rows)} of {len(everything)} runs{note}"
            + ". Select rows to compare, tag, archive or delete them; the run column opens one. Runs go on "
            "in worker processes when the tab closes; this table follows them live."
        )
        shown = views.display_rows(rows, shown_columns)
        shown.insert(0, "open", [f"runs?run={i}" for i in rows["id"]])
        # the selection is kept by row position: a new key whenever the listed runs change (a new run, a filter)
        # so a selection never silently points at another run
        listed = hashlib.sha1(",".join(map(str, rows["id"])).encode()).hexdigest()[:10]
        event = st.dataframe(
            shown,
            hide_index=True,
            on_select="rerun",
            selection_mode="multi-row",
            key=f"runs_table_{listed}",
            width="stretch",
            column_config={
                "open": st.column_config.LinkColumn("run", display_text=r"run=(\d+)", width="small"),
                views.RUN_LABELS["progress"]: st.column_config.ProgressColumn(
                    views.RUN_LABELS["progress"], min_value=0, max_value=1, width="small"
                ),
                **{
                    views.RUN_LABELS[c]: st.column_config.TextColumn(width="small")
                    for c in ("pn_ratio", "seed", "ap", "auc", "epochs", "class", "status")
                },
                views.RUN_LABELS["notes"]: st.column_config.TextColumn(width="medium"),
            },
        )
        picked = [int(rows.iloc[i]["id"]) for i in event.selection.rows if i < len(rows)]
        if picked:
            selection_actions(picked, allowed)

    table()


def selection_actions(picked: list[int], allowed) -> None:
    names = ", ".join(map(str, picked[:12])) + (" ..." if len(picked) > 12 else "")
    st.markdown(f"**{len(picked)} selected:** runs {names}")
    buttons = st.columns([1, 1, 1, 2, 1])
    locked = allowed.readonly
    if buttons[0].button("Open in Compare", icon=":material/bar_chart:", key="sel_compare"):
        st.switch_page("app_pages/compare.py", query_params={"runs": ",".join(map(str, sorted(picked)))})
    if len(picked) == 1 and buttons[1].button("Open", icon=":material/open_in_new:", key="sel_open"):
        st.query_params["run"] = str(picked[0])
        st.rerun(scope="app")
    if buttons[2].button("Archive", icon=":material/archive:", key="sel_archive", disabled=locked):
        run_actions.archive(store, picked, archived=True)
        st.rerun(scope="app")
    with buttons[3]:
        tag_text = st.text_input(
            "Add tags", key="sel_tags", placeholder="tags, e.g. baseline", disabled=locked, label_visibility="collapsed"
        )
    if buttons[4].button("Add tags", key="sel_add_tags", disabled=locked or not tag_text.strip()):
        run_actions.add_tags(store, picked, views.parse_tags(tag_text))
        st.rerun(scope="app")
    if delete_with_confirmation(picked, locked, key="sel"):
        st.rerun(scope="app")


def delete_with_confirmation(picked: list[int], locked: bool, key: str) -> bool:
    """A Delete button, then a confirmation naming what goes; True once deleted."""
    asking = st.session_state.get(f"{key}_confirm_delete")
    if asking != picked:
        if st.button(f"Delete {len(picked)} run(s)…", icon=":material/delete:", key=f"{key}_delete", disabled=locked):
            st.session_state[f"{key}_confirm_delete"] = picked
            st.rerun(scope="app")
        return False
    active = [r for r in picked if (found := store.get_run(r)) is not None and found.status in ("queued", "running")]
    st.warning(
        f"Delete run(s) {', '.join(map(str, picked))} with their epochs, selections and saved arrays? "
        "This cannot be undone." + (f" Run(s) {', '.join(map(str, active))} will be cancelled first." if active else "")
    )
    yes, no = st.columns(2)
    if yes.button("Yes, delete", type="primary", key=f"{key}_delete_yes", disabled=locked):
        deleted = run_actions.delete_runs(store, picked)
        st.session_state.pop(f"{key}_confirm_delete", None)
        st.session_state["runs_notice"] = f"Deleted run(s) {', '.join(map(str, deleted))} and their saved arrays."
        return True
    if no.button("Keep them", key=f"{key}_delete_no"):
        st.session_state.pop(f"{key}_confirm_delete", None)
        st.rerun(scope="app")
    return False


def show_run(run_id: int) -> None:
    detail = views.run_detail(store, run_id)
    if detail is None:
        st.error(f"There is no run {run_id}. Pick one from the table.")
        if st.button("All runs"):
            del st.query_params["run"]
            st.rerun()
        return
    run = detail["run"]
    st.title(detail["title"])
    if run.name or run.tags:  # typed by a person: shown as typed, never as a link, image or HTML
        name = f"**{views.plain(run.name)}**" if run.name else ""
        st.markdown(" ".join([name, *(f":gray-badge[{views.plain(t)}]" for t in run.tags or [])]).strip())
    links = st.columns([1, 2, 3])
    with links[0]:
        if st.button("All runs", icon=":material/list:"):
            del st.query_params["run"]
            st.rerun()
    with links[1]:
        st.page_link(
            "app_pages/inspect.py",
            label="Inspect negatives",
            icon=":material/scatter_plot:",
            query_params={"run": str(run_id)},
        )
    if detail["counts"]:
        st.caption(detail["counts"] + f" · shareable link: `?run={run_id}`")
    if run.notes:
        st.markdown(views.plain(run.notes))  # line breaks kept
    live_view(run_id, detail["active"])
    edit_run(run)
    with st.expander("Configuration"):
        st.json(detail["config"])


def edit_run(run: RunRecord) -> None:
    locked = limits.current().readonly
    with st.expander("Name, tags, notes; archive or delete" + (" (read-only server)" if locked else "")):
        with st.form(f"edit_{run.id}", border=False):
            name = st.text_input("Name", value=run.name or "", key="edit_name", disabled=locked)
            tags = st.text_input(
                "Tags (commas or spaces)", value=", ".join(run.tags or []), key="edit_tags", disabled=locked
            )
            notes = st.text_area("Notes", value=run.notes or "", key="edit_notes", disabled=locked)
            if st.form_submit_button("Save", disabled=locked):
                try:
                    run_actions.label_run(store, run.id, name=name, tags=views.parse_tags(tags), notes=notes)
                except WeaknegError as error:
                    st.error(str(error))
                else:
                    st.rerun()
        archived = bool(run.archived)
        if st.button(
            "Unarchive" if archived else "Archive",
            key="edit_archive",
            disabled=locked,
            help="Archived runs are hidden from the table (tick Show archived) and stay everywhere else.",
        ):
            run_actions.archive(store, [run.id], archived=not archived)
            st.rerun()
        if delete_with_confirmation([run.id], locked, key="one"):
            del st.query_params["run"]
            st.rerun()


def epoch_chart(curves, title: str, height: int) -> alt.Chart:
    """One line per metric over the epochs (whole epochs on the axis)."""
    return (
        alt.Chart(curves)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("value:Q", title=title),
            color="metric:N",
        )
        .properties(height=height)
    )


def live_view(run_id: int, active: bool) -> None:
    @st.fragment(run_every=REFRESH_S if active else None)
    def progress() -> None:
        detail = views.run_detail(store, run_id)
        row, run = detail["row"], detail["run"]
        if not detail["active"] and active:  # it just ended: one full rerun stops the refreshing
            st.rerun(scope="app")
        st.progress(row["progress"], text=f"**{row['status']}** · epoch {row['epochs']}")
        if detail["active"] and st.button(
            "Cancel run", icon=":material/stop_circle:", key="cancel", disabled=limits.current().readonly
        ):
            status = jobs.cancel(store, run_id, grace_s=8)
            st.toast(f"run {run_id}: {status}; finished epochs are kept")
            st.rerun(scope="app")
        if run.error:
            (st.warning if row["status"] in ("cancelled", "interrupted") else st.error)(
                views.plain(run.error.splitlines()[0])
            )
        if (
            row["status"] in run_actions.RESUMABLE
            and run.kind == "run"
            and st.button(
                "Resume from the last finished epoch",
                icon=":material/play_circle:",
                key="resume",
                disabled=limits.current().readonly,
            )
        ):
            try:
                run_actions.resume_run(store, run_id)
            except WeaknegError as error:
                st.error(str(error), icon=":material/error:")
            else:
                st.toast(f"run {run_id} queued again: it continues after epoch {run.epochs_done}")
                st.rerun(scope="app")
        metrics = st.columns(4)
        metrics[0].metric("AP", shown(row["ap"], "{:.3f}"))
        metrics[1].metric("ROC-AUC", shown(row["auc"], "{:.3f}"))
        metrics[2].metric("d'", shown(run.final_dprime, "{:.2f}"))
        metrics[3].metric("duration", shown(row["duration_s"], "{:.0f} s"))
        if not detail["epochs"]:
            st.info("Waiting for the first epoch…" if detail["active"] else "No epoch was recorded.")
            return
        charts = st.columns([3, 2])
        curves = views.curves(detail["epochs"])
        loss = curves[curves["metric"].str.contains("loss")]
        quality = curves[~curves["metric"].str.contains("loss")]
        with charts[0]:
            st.altair_chart(epoch_chart(quality, "test AP / AUC", height=220), width="stretch")
            st.altair_chart(epoch_chart(loss, "loss", height=160), width="stretch")
        with charts[1]:
            split = views.time_split(detail["epochs"])
            st.markdown("**Where the time went**")
            st.altair_chart(
                alt.Chart(split)
                .mark_bar()
                .encode(
                    x=alt.X("seconds:Q"),
                    y=alt.Y("phase:N", sort=None),
                    tooltip=["phase", alt.Tooltip("seconds:Q", format=".2f"), alt.Tooltip("share:Q", format=".0%")],
                )
                .properties(height=160),
                width="stretch",
            )
            st.dataframe(
                split,
                hide_index=True,
                column_config={
                    "seconds": st.column_config.NumberColumn(format="%.2f"),
                    "share": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
                },
            )

    progress()


run_param = st.query_params.get("run")
if run_param is None:
    show_table()
elif not run_param.isdigit():
    st.error(f"?run= must be a run id (a number), got {views.plain(repr(run_param))}.")
else:
    show_run(int(run_param))
