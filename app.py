"""weakneg: the Streamlit app. This file only wires the navigation; pages live in app_pages/ (not pages/,
which Streamlit would also serve in its legacy multipage mode and so break deep links).

On the first page view of a server process it also recovers the job queue: runs whose worker is gone are
marked interrupted (their finished epochs stay; runs are not resumed) and queued runs are started.
"""

import streamlit as st

from weakneg_core import jobs, paths
from weakneg_core.store import RunStore

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
def recover_jobs(store_url: str) -> list[int]:
    """Once per server process and store: mark dead runs interrupted, start queued runs."""
    return jobs.dispatch(RunStore(store_url))


recover_jobs(paths.store_url())
pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
st.navigation(pages).run()
