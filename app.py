"""weakneg: the Streamlit app. This file only wires the navigation; pages live in app_pages/ (not pages/,
which Streamlit would also serve in its legacy multipage mode and so break deep links).

Pages only read and draw; they start or stop runs only when a person presses a button. Queued runs left
by a stopped server are started by `python -m weakneg dispatch` (`make run` calls it first).
"""

import os
import sys
import time
import uuid
from pathlib import Path

import streamlit as st

from weakneg import limits
from weakneg.store import RUNNING, open_store

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
def server_boot() -> str:
    """This server process's own id: a tab that still holds another one was opened on a server that is gone."""
    return uuid.uuid4().hex


@st.cache_resource(show_spinner=False)
def server_started() -> float:
    """When this server process started (Linux: its /proc entry's time), else when it first served a page."""
    try:
        return Path("/proc/self").stat().st_ctime
    except OSError:
        return time.time()


# Streamlit's own dialog when the server is unreachable ("Is Streamlit still running? ... streamlit run
# yourscript.py", or "Are you connected to the internet?") cannot be changed by configuration (only a host page
# embedding the app can block it). This script, added once to the app's page, rewrites its text as it appears.
FRIENDLIER_CONNECTION_ERROR = """<script>
const top_ = window.parent;
if (!top_.weaknegConnectionNotice) {
  top_.weaknegConnectionNotice = true;
  const script = top_.document.createElement("script");  // runs in the app's page, whatever happens to this frame
  script.textContent = `
    const WORDS = "The weakneg server is not reachable right now (restarting or stopped). Runs keep going in "
      + "their own processes; this page reconnects by itself when the server is back.";
    new MutationObserver(() => {
      for (const dialog of document.querySelectorAll('[role="dialog"]')) {
        if (dialog.dataset.weakneg || !/Connection error/.test(dialog.innerText)) continue;
        for (const element of dialog.querySelectorAll("div, p")) {
          if (/still running|not responding/.test(element.innerText) && !element.querySelector("div, p")) {
            element.textContent = WORDS;
            dialog.dataset.weakneg = "1";
          }
        }
        for (const code of dialog.querySelectorAll("pre")) code.style.display = "none";
      }
    }).observe(document.body, {childList: true, subtree: true});`;
  top_.document.head.appendChild(script);
}
</script>"""


def boot_seen_by_this_tab() -> str:
    """The server id this tab was last served by. A hidden field holds it in the browser: its default is this
    server's id, and the browser sends back the value it holds, which survives a server restart (Streamlit
    keeps widget values in the tab and sends them to the new server when the tab reconnects)."""
    st.html("<style>.st-key-frame_boot {display: none}</style>")
    with st.sidebar.container(key="frame_boot"):
        st.iframe(FRIENDLIER_CONNECTION_ERROR, height=1)
        return st.text_input("server", value=server_boot(), key="frame_boot_id", label_visibility="collapsed")


def restart_notice() -> None:
    """Once, in a tab that was open while the server restarted (not in a tab opened afterwards): the runs that
    kept going meanwhile (they live in worker processes, not in the server)."""
    seen = boot_seen_by_this_tab()
    if st.session_state.get("restart_checked"):
        return
    st.session_state["restart_checked"] = True
    if seen == server_boot():  # a tab opened on this server: nothing was restarted under it
        return
    started = server_started()
    running = [
        r for r in open_store().list_runs(status=RUNNING) if r.status == RUNNING and (r.started_at or started) < started
    ]
    if running:
        st.toast(
            f"The app's server was restarted; your runs kept going: {len(running)} running.",
            icon=":material/restart_alt:",
        )


if "--demo" in sys.argv[1:]:  # `streamlit run app.py -- --demo` (what `serve --demo` runs): read-only for everyone
    os.environ["WEAKNEG_READONLY"] = "1"
restart_notice()
if limits.current().readonly:
    st.sidebar.caption(
        ":material/visibility: Read-only demo: existing runs can be viewed, nothing can be started or changed."
    )
pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
st.navigation(pages).run()
