"""Sweeps: define a grid (size and estimated time shown before launch), launch it in the background on the
local workers or on Ray, watch it, cancel it, and open its comparison on the Compare page."""

import streamlit as st

from app_pages.param_fields import param_field
from weakneg import limits
from weakneg.config import RunConfig
from weakneg.data import class_names, dataset_status
from weakneg.errors import WeaknegError
from weakneg.models import HEADS
from weakneg.samplers import SAMPLERS
from weakneg.store import open_store
from weakneg.views import grid_warnings, plain, write_sweep_report, written_report
from weakneg.views.launch import data_preparation
from weakneg.sweep import (
    CONFIRM_AT,
    SweepConfig,
    cancel_sweep,
    count_numbers,
    estimate,
    format_duration,
    format_progress,
    launch_background,
    parse_numbers,
    progress,
)

store = open_store()
st.title("Sweeps")
st.caption(
    "A grid of runs: every combination of the classes, samplers, seeds and P-N ratios below. Runs land in "
    "the same store as single runs, tagged with the sweep id; rerunning a sweep id skips its finished runs."
)

# --- define ---------------------------------------------------------------------------------------------
allowed = limits.current()
if allowed.readonly:
    st.info(
        "This server is a read-only demo: sweeps cannot be launched or cancelled here; existing sweeps can be "
        "watched and opened in Compare.",
        icon=":material/visibility:",
    )
ready = [name for name, missing in dataset_status().items() if missing is None]
left, right = st.columns(2)
dataset = left.selectbox("Dataset", ready, key="sw_dataset")
names = class_names(dataset)
all_classes = left.checkbox("All classes", key="sw_all_classes")
classes = names if all_classes else left.multiselect("Classes", names, default=names[:2], key="sw_classes")
multilabel = left.checkbox(
    "One multi-label model for these classes",
    key="sw_multilabel",
    help="Each grid point trains one model with an output per class (each class picks its own negatives), instead of "
    "a binary run per class; Compare reads it class by class.",
)
per_run = 1 if multilabel else len(classes)  # classes each grid point makes runs of
samplers = left.multiselect(
    "Samplers",
    list(SAMPLERS),
    default=["random", "grad_norm"],
    key="sw_samplers",
    help="include `random`: deltas and wins are measured against it",
)
with_params = [s for s in samplers if SAMPLERS[s].param_types]
own_params = {}  # sampler -> the values that differ from its defaults: each run of it gets them
if with_params:
    with left.expander("Sampler parameters", expanded=True):
        for sampler in with_params:
            values = {
                name: param_field(sampler, name, param, "sw_param")
                for name, param in SAMPLERS[sampler].param_types.items()
            }
            changed = {
                name: value for name, value in values.items() if value != SAMPLERS[sampler].param_types[name].default
            }
            if changed:
                own_params[sampler] = changed
seeds_text = right.text_input("Seeds", "0", key="sw_seeds", help="numbers and ranges, e.g. `0 1 2` or `0-4`")
ratios_text = right.text_input("P-N ratios", "0.5", key="sw_ratios", help="0.5 = two negatives per positive")
heads = right.multiselect("Heads", list(HEADS), default=[RunConfig.head], key="sw_heads")
# no bounds on the number boxes: the engine and the server's caps say what is wrong (a bounded box would keep its
# last valid value without a word)
epochs = right.number_input("Epochs per run", value=3, step=1, key="sw_epochs")
max_instances = right.number_input("Max instances per split (0 = all)", value=0, step=1000, key="sw_max_inst")

with st.expander("Where and how it runs"):
    run_cols = st.columns(3)
    backend = run_cols[0].radio(
        "Backend", ["local", "ray"], key="sw_backend", help="local: worker processes on this machine; ray: Ray tasks"
    )
    run_cols[0].caption(
        "Ray cluster: "
        + (f"`{allowed.ray_address}`" if allowed.ray_address else "a local Ray")
        + " (set by the server's RAY_ADDRESS, not here)"
    )
    max_concurrent = run_cols[1].number_input(
        f"Runs at once (0 = the server's {allowed.max_concurrent})", value=0, step=1, key="sw_conc"
    )
    retries = run_cols[1].number_input("Retries per failed run", value=1, step=1, key="sw_retries")
    num_cpus = run_cols[2].number_input(
        "CPUs per run (Ray)", value=1.0, step=0.5, key="sw_cpus", disabled=backend != "ray"
    )
    num_gpus = run_cols[2].number_input(
        "GPUs per run (Ray; fractions share a GPU)", value=0.0, step=0.25, key="sw_gpus", disabled=backend != "ray"
    )
    save = st.selectbox("Save pool arrays (for the Inspect page)", ["none", "last", "all"], key="sw_save")

sweep, configs, problem, size = None, [], None, None
try:
    # counted first, from the text (a range like 0-9999999 is never expanded before it is known to fit the cap)
    size = per_run * len(samplers) * count_numbers(seeds_text, int) * count_numbers(ratios_text, float) * len(heads)
    if int(max_concurrent) > allowed.max_concurrent:
        raise WeaknegError(
            f"runs at once {int(max_concurrent)} is above this server's cap of "
            f"{allowed.max_concurrent} (WEAKNEG_MAX_CONCURRENT)"
        )
    allowed.check_grid(size)
    grid = {
        "target_class": "all" if all_classes else classes,
        "sampler": samplers,
        "seed": parse_numbers(seeds_text, int),
        "pn_ratio": parse_numbers(ratios_text, float),
        "head": heads,
    }
    sweep = SweepConfig(
        base=RunConfig(dataset=dataset, epochs=int(epochs), max_instances=int(max_instances), save_embeddings=save),
        grid=grid,
        backend=backend,
        retries=int(retries),
        max_concurrent=int(max_concurrent),
        num_cpus=float(num_cpus),
        num_gpus=float(num_gpus),
        address=allowed.ray_address,
        sampler_params=own_params,
        multilabel=multilabel,
    )
    sweep.base.validate()
    allowed.check_run(sweep.base, store.artifacts_root)
    configs = sweep.expand(confirm=True)
    if data_preparation(sweep.base) is None:  # data made on first use (soundscapes) are checked at launch instead
        for warning in grid_warnings(configs):  # k = 0 raises: the same rule as Launch, `run` and `sweep`
            st.warning(warning, icon=":material/warning:")
except limits.ReadOnly as error:
    problem = str(error)
except WeaknegError as error:
    problem = str(error)
    st.error(problem)

confirmed = True
if size:
    shape = (
        (f"one model of {len(classes)} classes" if multilabel else f"{len(classes)} classes")
        + f" × {len(samplers)} samplers × "
        f"{count_numbers(seeds_text, int):,} seeds × "
        f"{count_numbers(ratios_text, float)} ratios × {len(heads)} heads"
    )
    when = ""
    if configs and not problem:  # a grid the engine refuses has nothing to measure
        try:
            guess = estimate(store, configs, int(max_concurrent) or None)
        except WeaknegError as error:  # the probe trains a setting the checks above could not see fail
            guess = {"wall_seconds": None}
            st.warning(f"No estimate: measuring this grid's cost failed: {error}", icon=":material/warning:")
        when = (
            "; about **" + format_duration(guess["wall_seconds"]) + f"** (from {guess['based_on']} past runs)"
            if guess["wall_seconds"] is not None
            else "; no estimate yet (no comparable finished runs)"
        )
    st.markdown(f"**{size:,} runs** ({shape}){when}.")
    if not problem and size >= CONFIRM_AT:
        st.warning(f"This grid has {size:,} runs (>= {CONFIRM_AT:,}).")
        confirmed = st.checkbox(f"Yes, launch {size:,} runs", key="sw_confirm")

if st.button("Launch sweep", type="primary", disabled=bool(problem) or not confirmed, key="sw_launch"):
    try:
        allowed.check_grid(size)
        sweep_id, _ = launch_background(sweep, store, confirm=confirmed)
    except WeaknegError as error:
        st.error(str(error))
    else:
        st.session_state["sw_pick"] = sweep_id  # the panel below watches the new sweep at once (before its box exists)
        st.query_params["sweep"] = sweep_id
        st.success(f"Sweep `{sweep_id}` launched on the {backend} backend.")

# --- watch ---------------------------------------------------------------------------------------------
st.divider()
sweeps = [s.id for s in store.list_sweeps()]
wanted = st.query_params.get("sweep")
if wanted and wanted not in sweeps:
    st.warning(f"There is no sweep {plain(wanted)} in this store; showing the latest instead.", icon=":material/help:")
if not sweeps:
    st.info(
        "No sweeps yet. From a terminal: `python -m weakneg sweep --dataset digits --classes 0 1 "
        "--samplers random grad_norm --seeds 0 1 --epochs 3`"
    )
    st.stop()
if st.session_state.get("sw_pick") not in sweeps:  # first visit (the link's sweep) or a sweep deleted since
    st.session_state["sw_pick"] = wanted if wanted in sweeps else sweeps[0]
watched = st.selectbox("Sweep", sweeps, key="sw_pick")
st.query_params["sweep"] = watched  # the link always names the sweep shown


@st.fragment(run_every=2)
def watch(sweep_id: str) -> None:
    state = progress(store, sweep_id)
    total = max(state["n_runs"] or 0, 1)
    st.progress(state["done"] / total, text=format_progress(state))
    st.caption(
        f"status **{state['status']}** · backend {state['backend']}"
        + (f" · {plain(state['error'])}" if state["error"] else "")
    )
    cols = st.columns(3)
    if cols[0].button("Open in Compare", key="sw_compare", disabled=state["finished"] == 0):
        st.switch_page("app_pages/compare.py", query_params={"sweep": sweep_id})
    if cols[1].button(
        "Cancel sweep",
        key="sw_cancel",
        disabled=allowed.readonly or not (state["active"] or state["status"] == "queued"),
    ):
        cancel_sweep(store, sweep_id, grace_s=5)
        st.rerun(scope="fragment")
    if cols[2].button("Write report", key="sw_report", disabled=allowed.readonly or state["finished"] == 0):
        try:
            write_sweep_report(store, sweep_id)
        except WeaknegError as error:
            st.error(str(error))
    report = written_report(sweep_id)  # read from its folder: still shown after a refresh or a restart
    if report is not None:
        st.subheader("Report", anchor=False)
        for figure in report.figures:
            st.image(str(figure))
        st.caption(f"Written to `{report.folder}`: " + ", ".join(path.name for path in report.files.values()))
        st.download_button(
            "Download report.md",
            report.markdown.read_bytes(),
            file_name=f"report-{sweep_id}.md",
            mime="text/markdown",
            key="sw_report_md",
        )


watch(watched)
