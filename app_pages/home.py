"""Home: what the tool is, which data are ready, the latest runs."""

import streamlit as st

from weakneg import views
from weakneg.store import open_store

st.title("weakneg")
st.markdown(
    "An interactive lab for **negative sampling in weak-label learning** (Shah et al., *Importance of negative "
    "sampling in weak label learning*, 2023). Data come as *bags* (5 images, a 10-second clip); only the bag label "
    "is known, and negative bags vastly outnumber positive ones. Each epoch keeps every positive bag and a "
    "*sampler* picks which negatives to train on. **Which negatives are worth training on?**"
)
st.markdown(
    "1. **Launch** a run: a dataset, a target class, a sampler.  \n"
    "2. Follow it on **Runs** (live curves, time split).  \n"
    "3. **Inspect negatives**: a map of the pool's gradient embeddings, which bags were chosen, what they "
    "contain.  \n"
    "4. **Compare** samplers across classes and seeds against `random`."
)
st.page_link("app_pages/launch.py", label="Launch a run", icon=":material/rocket_launch:")

ready, missing = views.dataset_choices()
left, right = st.columns(2)
with left:
    st.subheader("Datasets ready")
    for name, description in ready.items():
        st.markdown(f"**{name}**: {description}")
with right:
    st.subheader("Datasets not installed")
    if not missing:
        st.write("None: every dataset is ready.")
    for name, message in missing.items():
        st.markdown(f"**{name}**: {message}")

st.subheader("Latest runs")
latest = views.latest_runs(open_store(), 10)
if latest.empty:
    st.info(
        "No runs yet. Launch one from the **Launch** page, or from a terminal: "
        "`python -m weakneg run --dataset digits --target-class 3 --epochs 5`"
    )
else:
    shown = views.display_rows(
        latest, ["name", "status", "progress", "dataset", "class", "sampler", "pn_ratio", "ap", "auc"]
    )
    shown.insert(0, "open", [f"runs?run={i}" for i in latest["id"]])
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "open": st.column_config.LinkColumn("run", display_text=r"run=(\d+)"),
            "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1),
        },
    )
