"""Launch: choose data, target class, sampler and training settings; the counts update as you type."""

import streamlit as st

from app_pages.param_fields import param_field
from weakneg import jobs, limits, views
from weakneg.config import DEVICES, RunConfig, parse_pairs
from weakneg.data import DATASETS, class_names
from weakneg.data.making import FAILED, NOT_STARTED
from weakneg.errors import WeaknegError
from weakneg.models import HEAD_DESCRIPTIONS, HEADS
from weakneg.samplers import SAMPLERS
from weakneg.store import open_store
from weakneg.views import data_check
from weakneg.views.launch import data_preparation, dataset_options_help, start_data_preparation


ONE_CLASS, SEVERAL_CLASSES = "One class (binary)", "Several classes (one multi-label model)"

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
    option_text = st.text_input(
        "Dataset options (KEY=VALUE ..., as --dataset-option)",
        key="dataset_option_text",
        help=dataset_options_help(dataset),
        placeholder="e.g. folds=5 fold=2",
    )
    try:  # the options may change the class list (soundscapes' families); a bad one is said below
        names = class_names(dataset, options=parse_pairs(option_text.split()))
    except WeaknegError:
        names = class_names(dataset)
    several = (
        st.radio(
            "Classes",
            [ONE_CLASS, SEVERAL_CLASSES],
            key="class_mode",
            horizontal=True,
            help="One class: a binary model (the paper's runs). Several: one model with an output per class, each "
            "class picking its own negatives among the bags without it (docs/multilabel.md).",
        )
        == SEVERAL_CLASSES
    )
    if several:
        chosen = st.multiselect(
            "Target classes",
            names,
            default=names,
            key="targets",
            help="One model for all of them; each class keeps its own P-N ratio. Its shared encoder learns each class "
            "more slowly per epoch than a one-class model: give it more epochs (docs/multilabel.md, 'How many "
            "epochs').",
        )
        target = views.multilabel_target(chosen, names)
    else:
        target = st.selectbox(
            "Target class",
            names,
            index=min(3, len(names) - 1),
            key="target",
            help="A bag is positive when it holds at least one instance of this class.",
        )
    sampler = st.selectbox("Sampler", list(SAMPLERS), key="sampler", help="Which negative bags to train on.")
    st.caption(SAMPLERS[sampler].description)
    params = {}
    for name, param in SAMPLERS[sampler].param_types.items():
        params[name] = param_field(sampler, name, param)
    # No min/max on the number boxes: a box with bounds turns red and keeps its last value without a word; here
    # every value reaches the engine, which says what is wrong.
    pn_ratio = st.number_input(
        "P-N ratio (positive / negative bags per epoch)",
        value=0.5,
        step=0.05,
        key="pn_ratio",
        help="0.5: two negatives per positive (the paper)",
    )
    bag_size = st.number_input("Bag size (instances per bag)", value=5, step=1, key="bag_size")
    seed = st.number_input("Seed", value=0, step=1, key="seed")
with right:
    st.subheader("Training")
    epochs = st.number_input("Epochs", value=10, step=1, key="epochs")
    resample_every = st.number_input("Resample every (epochs)", value=1, step=1, key="resample")
    models = views.models_for(dataset)
    model = st.selectbox("Model", list(models), format_func=lambda m: f"{m}: {models[m]}", key="model")
    head = st.selectbox(
        "Aggregation head", list(HEADS), format_func=lambda h: f"{h}: {HEAD_DESCRIPTIONS.get(h, '')}", key="head"
    )
    augment = st.checkbox("Augmentation", value=False, key="augment")
    device = st.selectbox("Device", DEVICES, key="device")
    with st.expander("More settings"):
        lr = st.number_input("Learning rate", value=1e-3, format="%g", key="lr")
        batch_size = st.number_input("Batch size", value=32, step=1, key="batch_size")
        max_instances = st.number_input("Max instances per split (0 = all)", value=0, step=1000, key="max_instances")
        save_embeddings = st.selectbox("Save pool embeddings (for the map)", ["all", "last", "none"], key="save")
        typed = st.text_input(
            "Sampler parameters as text (KEY=VALUE ..., as on the command line; overrides the fields above)",
            key="param_text",
            placeholder="e.g. label=known",
        )

cfg = RunConfig(
    dataset=dataset,
    target_class=target,
    sampler=sampler,
    sampler_params=params,
    pn_ratio=pn_ratio,
    epochs=epochs,
    resample_every=resample_every,
    bag_size=bag_size,
    model=model,
    head=head,
    seed=seed,
    device=device,
    augment=augment,
    lr=lr,
    batch_size=batch_size,
    max_instances=max_instances,
    save_embeddings=save_embeddings,
)
problem = None
allowed = limits.current()
store = open_store()
if allowed.readonly:
    st.info(
        "This server is a read-only demo: runs cannot be launched here. Every existing run can be viewed on "
        "Runs, Inspect and Compare; Playground and MIL checks work.",
        icon=":material/visibility:",
    )


@st.fragment(run_every=1.0)
def preparing(cfg: RunConfig) -> None:
    """Data made on first use (soundscapes): started by a button (choosing the dataset starts nothing), then made
    in a background thread; their progress is redrawn every second, the whole page once they are ready."""
    progress = data_preparation(cfg)
    if progress is None:
        st.rerun()
    elif progress.state == NOT_STARTED:
        st.info(
            f"{cfg.dataset} are made on first use, once for these options: a few minutes in the background, "
            "while the app stays usable.",
            icon=":material/hourglass_empty:",
        )
        if st.button(f"Make {cfg.dataset} now", key="prepare_start", disabled=allowed.readonly):
            start_data_preparation(cfg)
            st.rerun()
    elif progress.state == FAILED:
        st.error(progress.text(cfg.dataset), icon=":material/error:")
        if st.button("Try again", key="prepare_retry", disabled=allowed.readonly):
            start_data_preparation(cfg, retry=True)
    else:
        st.info(progress.text(cfg.dataset), icon=":material/hourglass_top:")
        st.progress(progress.done / progress.total if progress.total else 0.0)


try:
    cfg.sampler_params.update(parse_pairs(typed.split()))
    cfg.dataset_options.update(parse_pairs(option_text.split()))
    cfg.validate()
    pending = data_preparation(cfg)
    if pending is not None:  # the page stays usable; Launch waits for the data
        problem = pending.text(cfg.dataset)
        preparing(cfg)
    else:
        counts = views.launch_counts(cfg)
        st.info(f"**{counts.text}**", icon=":material/balance:")
        if counts.warning:
            st.warning(counts.warning, icon=":material/warning:")
    allowed.check_run(cfg, store.artifacts_root)
except limits.ReadOnly as error:  # said once above, in a calmer colour
    problem = str(error)
except WeaknegError as error:
    problem = str(error)
    st.error(problem, icon=":material/error:")

if not allowed.readonly:  # read-only demo: nothing is typed as a path
    with st.expander("Your own data: check a file before a run (`data check` on the command line)"):
        own = st.text_input("Path (an instance table, an image-bag CSV or a clip CSV)", key="own_data_path")
        if own:
            try:
                report = data_check.check_data(data_check.allowed_path(own), pn_ratio=pn_ratio, sampler=sampler)
                (st.code if report.ok else st.error)("\n".join(report.lines()))
                if report.ok and st.button("Launch on this data (settings above)", key="launch_own"):
                    own_cfg = data_check.run_config(report, cfg)
                    allowed.check_run(own_cfg, store.artifacts_root)
                    run_id = jobs.submit(own_cfg, store)
                    st.switch_page("app_pages/runs.py", query_params={"run": str(run_id)})
            except WeaknegError as error:
                st.error(str(error), icon=":material/error:")

st.caption(
    f"Runs execute in background worker processes (this server's caps: {allowed.max_concurrent} at once, "
    f"{allowed.max_epochs} epochs each): closing the tab does not stop them. If the app or a worker is killed, "
    "the run shows as *interrupted* and keeps its finished epochs; Resume continues it from its last epoch."
)
if st.button("Launch", type="primary", disabled=problem is not None, icon=":material/rocket_launch:"):
    try:
        allowed.check_run(cfg, store.artifacts_root)  # again: the disk may have filled since the page was drawn
        run_id = jobs.submit(cfg, store)
    except WeaknegError as error:
        st.error(str(error), icon=":material/error:")
    else:
        st.switch_page("app_pages/runs.py", query_params={"run": str(run_id)})
