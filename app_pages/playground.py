"""Playground: every sampler choosing negatives in a 2-D weak-label world, re-run on every slider change."""

import streamlit as st

from weakneg.config import negatives_per_epoch
from weakneg.models import HEADS
from weakneg.playground import PlaygroundSettings, default_samplers, explain_choice, run_playground
from weakneg.views.playground_figures import choice_figure, legend_html, metrics_figure
from weakneg.samplers import SAMPLERS

st.set_page_config(layout="wide")  # side-by-side plots need the width, whichever way the page is opened
DEFAULTS = PlaygroundSettings()
PER_ROW = 3
REGIONS = {"the model that chose": "chose", "the model trained on the choice": "trained"}


@st.cache_data(max_entries=64, show_spinner="Training every sampler on this world...")
def playground(settings: dict, samplers: tuple[str, ...]):
    return run_playground(PlaygroundSettings(**settings), samplers)


# key: (label, low, high, step, help) of each settings slider
SLIDERS = {
    "n_bags": ("number of bags", 40, 400, 20, "training bags; the test split has as many"),
    "bag_size": ("bag size", 1, 10, 1, "instances per bag; a positive bag holds 1..bag size concept points"),
    "overlap": (
        "concept / near-miss overlap",
        0.0,
        1.0,
        0.05,
        "0: near misses sit well apart from the concept; 1: on top of it",
    ),
    "pn_ratio": (
        "P-N ratio",
        0.1,
        2.0,
        0.05,
        "positive bags / negative bags per epoch: 0.5 = two negatives per positive",
    ),
    "epochs": ("epochs", 1, 15, 1, "training epochs; every epoch each sampler chooses anew"),
}


def _init_state() -> None:
    """Widget values start from the URL when it has them (a prepared lecture opens on its picture), else from
    the defaults; per key, because Streamlit forgets a widget's value when another page was shown."""
    params = st.query_params

    def initial(key: str, value) -> None:
        if key not in st.session_state:
            st.session_state[key] = value

    for name, (_, low, high, _, _) in SLIDERS.items():
        default = getattr(DEFAULTS, name)
        try:
            value = type(default)(params.get(name, default))
        except ValueError:
            value = default
        initial(f"pg_{name}", min(max(value, low), high))
    seed = params.get("seed", "")
    initial("pg_seed", int(seed) if seed.isdigit() and int(seed) <= 10_000 else DEFAULTS.seed)
    initial("pg_head", params.get("head") if params.get("head") in HEADS else DEFAULTS.head)
    chosen = [s for s in params.get("samplers", "").split(",") if s in SAMPLERS]
    initial("pg_samplers", chosen or default_samplers(3))


st.title("Playground")
st.write(
    "A 2-D weak-label world: points from Gaussian clusters (the **concept** in red, two **near misses** "
    "beside it, three **far** clusters) grouped into bags. A bag is positive when it holds a concept point. "
    "Each epoch every sampler keeps all positive bags and chooses which negative bags to train on, with the "
    "same samplers, heads, training loop and metrics as the full lab and a small MLP. Same settings, same "
    "picture."
)
_init_state()

with st.sidebar:
    st.header("World and training")
    values = {
        name: st.slider(label, low, high, step=step, help=help, key=f"pg_{name}")
        for name, (label, low, high, step, help) in SLIDERS.items()
    }
    seed = st.number_input("seed", 0, 10_000, key="pg_seed")
    head = st.selectbox("head", list(HEADS), key="pg_head")

samplers = st.multiselect("samplers (two or more)", list(SAMPLERS), key="pg_samplers")
if len(samplers) < 2:
    st.info("Choose two or more samplers to compare.")
    st.stop()

settings = PlaygroundSettings(**values, seed=int(seed), head=head)
st.query_params.from_dict(
    {
        **{name: str(value) for name, value in values.items()},
        "seed": str(int(seed)),
        "head": head,
        "samplers": ",".join(samplers),
    }
)  # a lecture can bookmark its picture
result = playground(settings.to_dict(), tuple(samplers))

left, right = st.columns([3, 2])
if settings.epochs > 1:  # a slider needs two values
    # start on the last epoch (the trained models' choices); stay in range when the number of epochs shrinks
    st.session_state.pg_epoch = min(st.session_state.get("pg_epoch", settings.epochs), settings.epochs)
    epoch = left.slider(
        "epoch",
        1,
        settings.epochs,
        key="pg_epoch",
        help="step through the selections: each epoch the sampler chooses anew",
    )
else:
    epoch = 1
regions = REGIONS[right.radio("decision regions of", list(REGIONS), horizontal=True, key="pg_regions")]
world = result.world
n_pos, pool = int(world.train.labels.sum()), int((world.train.labels == 0).sum())
st.caption(
    f"{len(world.train)} training bags: {n_pos} positive, {pool} negative; each epoch trains on all {n_pos} "
    f"positives and k = {negatives_per_epoch(n_pos, settings.pn_ratio, pool)} negatives (P-N ratio "
    f"{settings.pn_ratio:g}; full takes all {pool}). Background: "
    "P(positive) of a bag holding just that point (orange = positive, blue = negative)."
)
st.markdown(legend_html(result), unsafe_allow_html=True)

names = list(result.runs)
for start in range(0, len(names), PER_ROW):
    for column, name in zip(st.columns(PER_ROW), names[start : start + PER_ROW]):
        run = result.runs[name]
        choice = run.choice(epoch)
        with column:
            st.subheader(name)
            st.plotly_chart(
                choice_figure(result, name, epoch, regions), key=f"pg_fig_{name}", config={"displayModeBar": False}
            )
            st.markdown(explain_choice(world, run, epoch))
            st.caption(f"after epoch {epoch}: test AP {choice.ap:.3f} · AUC {choice.auc:.3f}")

st.subheader("Test AP and AUC per epoch")
st.plotly_chart(metrics_figure(result, epoch), key="pg_metrics")
with st.expander("What each sampler scores"):
    for name in names:
        st.markdown(f"**{name}**: {SAMPLERS[name].description}")
