"""weakneg: the Streamlit app. This file only wires the navigation; pages live in app_pages/ (not pages/,
which Streamlit would also serve in its legacy multipage mode and so break deep links).

Pages only read and draw; they start or stop runs only when a person presses a button. Queued runs left
by a stopped server are started by `python -m weakneg_core dispatch` (`make run` calls it first).
"""

import streamlit as st

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


pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
st.navigation(pages).run()
