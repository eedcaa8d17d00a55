"""Home: what the tool is, which data are ready, the latest runs."""

import streamlit as st

from weakneg_core.data import dataset_status
from weakneg_core.store import RunStore

st.title("weakneg")
st.write("An interactive lab for **negative sampling in weak-label learning**: which negative bags are worth "
         "training on? (Shah et al., *Importance of negative sampling in weak label learning*, 2023)")

st.subheader("Datasets")
for name, message in dataset_status().items():
    st.write(f"**{name}**: " + ("ready" if message is None else f"not available. {message}"))

st.subheader("Latest runs")
runs = RunStore().list_runs(limit=10)
if runs:
    st.dataframe([{k: r[k] for k in ("id", "status", "dataset", "target_name", "sampler", "pn_ratio", "final_ap",
                                     "final_auc")} for r in runs], hide_index=True)
else:
    st.info("No runs yet. From a terminal: `python -m weakneg_core run --dataset digits --target-class 3 --epochs 5`")
