"""Launch: choose data, target class, sampler and training settings; the counts update as you type."""

import streamlit as st

from weakneg_core import jobs, views
from weakneg_core.config import DEVICES, RunConfig, parse_value
from weakneg_core.data import DATASETS, class_names
from weakneg_core.errors import WeaknegError
from weakneg_core.models import HEAD_DESCRIPTIONS, HEADS
from weakneg_core.samplers import SAMPLERS
from weakneg_core.store import open_store
from weakneg_core.views import data_check

st.title("Launch a run")
ready, missing = views.dataset_choices()
if missing:
    with st.expander(f"{len(missing)} more dataset(s) need installing first"):
        for name, message in missing.items():
            st.markdown(f"**{name}**: {message}")
if not ready:
    st.error("No dataset is available; see above how to install one.")
    st.stop()

left, right = st.columns(2)
with left:
    st.subheader("Data and sampler")
    dataset = st.selectbox("Dataset", list(ready), key="dataset", help="Only datasets whose files are present.")
    st.caption(DATASETS[dataset].description)
    names = class_names(dataset)
    target = st.selectbox("Target class", names, index=min(3, len(names) - 1), key="target",
                          help="A bag is positive when it holds at least one instance of this class.")
    sampler = st.selectbox("Sampler", list(SAMPLERS), key="sampler", help="Which negative bags to train on.")
    st.caption(SAMPLERS[sampler].description)
    params = {}
    for name, default in SAMPLERS[sampler].params.items():
        key = f"param_{sampler}_{name}"
        if isinstance(default, bool):
            params[name] = st.checkbox(f"{sampler}: {name}", value=default, key=key)
        elif isinstance(default, int):
            params[name] = int(st.number_input(f"{sampler}: {name}", value=default, step=1, key=key))
        elif isinstance(default, float):
            params[name] = float(st.number_input(f"{sampler}: {name}", value=default, key=key, format="%g"))
        else:  # text, or a value that may be left empty (null)
            shown = "" if default is None else str(default)
            params[name] = parse_value(st.text_input(f"{sampler}: {name}", value=shown, key=key,
                                                     help="empty = null (the default)" if default is None else None))
    pn_ratio = st.number_input("P-N ratio (positive / negative bags per epoch)", min_value=0.01, max_value=100.0,
                               value=0.5, step=0.05, key="pn_ratio", help="0.5: two negatives per positive (the paper)")
    bag_size = int(st.number_input("Bag size (instances per bag)", min_value=1, value=5, step=1, key="bag_size"))
    seed = int(st.number_input("Seed", min_value=0, value=0, step=1, key="seed"))
with right:
    st.subheader("Training")
    epochs = int(st.number_input("Epochs", min_value=1, value=10, step=1, key="epochs"))
    resample_every = int(st.number_input("Resample every (epochs)", min_value=1, value=1, step=1, key="resample"))
    models = views.models_for(dataset)
    model = st.selectbox("Model", list(models), format_func=lambda m: f"{m}: {models[m]}", key="model")
    head = st.selectbox("Aggregation head", list(HEADS), format_func=lambda h: f"{h}: {HEAD_DESCRIPTIONS.get(h, '')}",
                        key="head")
    augment = st.checkbox("Augmentation", value=False, key="augment")
    device = st.selectbox("Device", DEVICES, key="device")
    with st.expander("More settings"):
        lr = st.number_input("Learning rate", min_value=1e-6, value=1e-3, format="%g", key="lr")
        batch_size = int(st.number_input("Batch size", min_value=1, value=32, step=1, key="batch_size"))
        max_instances = int(st.number_input("Max instances per split (0 = all)", min_value=0, value=0, step=1000,
                                            key="max_instances"))
        save_embeddings = st.selectbox("Save pool embeddings (for the map)", ["all", "last", "none"], key="save")

cfg = RunConfig(dataset=dataset, target_class=target, sampler=sampler, sampler_params=params, pn_ratio=pn_ratio,
                epochs=epochs, resample_every=resample_every, bag_size=bag_size, model=model, head=head, seed=seed,
                device=device, augment=augment, lr=lr, batch_size=batch_size, max_instances=max_instances,
                save_embeddings=save_embeddings)
problem = None
try:
    cfg.validate()
    counts = views.launch_counts(cfg)
    st.info(f"**{counts.text}**", icon=":material/balance:")
except WeaknegError as error:
    problem = str(error)
    st.error(problem, icon=":material/error:")

with st.expander("Your own data: check a file before a run (`data check` on the command line)"):
    own = st.text_input("Path (an instance table, an image-bag CSV or a clip CSV)", key="own_data_path")
    if own:
        try:
            report = data_check.check_data(data_check.allowed_path(own), pn_ratio=pn_ratio, sampler=sampler)
            (st.code if report.ok else st.error)("\n".join(report.lines()))
            if report.ok and st.button("Launch on this data (settings above)", key="launch_own"):
                run_id = jobs.submit(data_check.run_config(report, cfg), open_store())
                st.switch_page("app_pages/runs.py", query_params={"run": str(run_id)})
        except WeaknegError as error:
            st.error(str(error), icon=":material/error:")

st.caption(f"Runs execute in background worker processes (at most {jobs.max_concurrent()} at once; set "
           "WEAKNEG_MAX_CONCURRENT to change): closing the tab does not stop them. If the app or a worker is "
           "killed, the run is marked *interrupted* on the next start and keeps its finished epochs; it is not "
           "resumed.")
if st.button("Launch", type="primary", disabled=problem is not None, icon=":material/rocket_launch:"):
    try:
        run_id = jobs.submit(cfg, open_store())
    except WeaknegError as error:
        st.error(str(error), icon=":material/error:")
    else:
        st.switch_page("app_pages/runs.py", query_params={"run": str(run_id)})
