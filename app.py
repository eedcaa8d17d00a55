"""weakneg: the Streamlit app. This file only wires the navigation; pages live in app_pages/ (not pages/,
which Streamlit would also serve in its legacy multipage mode and so break deep links).

Pages only read and draw; they start or stop runs only when a person presses a button. Queued runs left
by a stopped server are started by `python -m weakneg_core dispatch` (`make run` calls it first).
"""

import time
from pathlib import Path

import streamlit as st

from weakneg_core import limits
from weakneg_core.store import RUNNING, open_store

RESTART_NOTICE_S = 120  # a tab that reconnects this soon after the server started is told what kept going

st.set_page_config(page_title="weakneg", page_icon=":material/scatter_plot:", layout="wide")

PAGES = [  # (file, title, icon)
    ("app_pages/home.py", "Home", ":material/home:"),
    ("app_pages/launch.py", "Launch", ":material/rocket_launch:"),
    ("app_pages/runs.py", "Runs", ":material/list:"),
    ("app_pages/inspect.py", "Inspect negatives", ":material/scatter_plot:"),
    ("app_pages/compare.py", "Compare", ":material/bar_chart:"),
    ("app_pages/sweeps.py", "Sweeps", ":material/grid_view:"),
    ("app_pages/milcheck.py", "MIL checks", ":material/rule:"),
    ("app_pages/playground.py", "Playground", ":material/school:"),
]




@st.cache_resource(show_spinner=False)
def server_started() -> float:
    """When this server process started (Linux: its /proc entry's time), else when it first served a page."""
    try:
        return Path("/proc/self").stat().st_ctime
    except OSError:
        return time.time()


def restart_notice() -> None:
    """Once per browser session, shortly after the server (re)started: the runs that kept going meanwhile
    (they live in worker processes, not in the server)."""
    if st.session_state.get("restart_checked"):
        return
    st.session_state["restart_checked"] = True
    started = server_started()
    if time.time() - started > RESTART_NOTICE_S:
        return
    running = [r for r in open_store().list_runs(status=RUNNING)
               if r["status"] == RUNNING and (r["started_at"] or started) < started]
    if running:
        st.toast(f"The app's server was restarted; your runs kept going: {len(running)} running.",
                 icon=":material/restart_alt:")


restart_notice()
if limits.current().readonly:
    st.sidebar.caption(":material/visibility: Read-only demo: existing runs can be viewed, nothing can be started "
                       "or changed.")
pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
st.navigation(pages).run()
