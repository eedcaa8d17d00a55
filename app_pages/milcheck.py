"""MIL checks: does a head respect the multiple-instance assumption? Runs the checks as jobs, shows verdicts."""

import streamlit as st

from weakneg import limits, milcheck
from weakneg.errors import WeaknegError
from weakneg.models import HEAD_DESCRIPTIONS, HEADS
from weakneg.samplers import SAMPLERS
from weakneg.store import open_store

ALL_HEADS = "all heads"

st.title("MIL checks")
st.write(
    "Under the **multiple-instance assumption** a bag is positive if and only if it holds a positive instance: "
    "evidence only ever points to *positive*. A head that respects it cannot learn that some instance means "
    '"negative". These algorithmic unit tests (after Raff & Holt, *Reproducibility in Multiple Instance '
    "Learning: A Case For Algorithmic Unit Tests*, NeurIPS 2023) train a head on synthetic bags where a shortcut "
    "that only negative evidence can use is present at training time and reversed at test time."
)
with st.expander("Why this matters for negative sampling"):
    st.write(
        "Each epoch a sampler chooses which negative bags the model sees. A sampler that feeds *hard* negatives "
        "feeds the bags whose instances the model finds most confusing, and a head that can use negative evidence "
        '(mean pooling, attention) can fit them by learning "this instance means negative" instead of learning '
        "the positive class. That shortcut holds on the training data and fails as soon as such an instance shows up "
        "in a positive bag. A max-pooling head cannot take it. Run the checks with the sampler you plan to use."
    )
    for name, test in milcheck.TESTS.items():
        st.markdown(f"- **{test.title}** (`{name}`): {test.rule}; the shortcut: {test.shortcut}.")
    st.caption(
        f"Verdict: *violates* when the AUC on the swapped test bags falls below the AUC on the same bags with "
        f"the shortcut instances made background by more than max({milcheck.MIN_DROP}, {milcheck.Z:g} "
        f"standard errors, DeLong's paired test); *inconclusive* when the held-out AUC on training-like bags "
        f"is under {milcheck.MIN_FIT_AUC} (the model did not learn the task)."
    )

store = open_store()
samplers = list(SAMPLERS)
with st.form("launch"):
    columns = st.columns(4)
    head = columns[0].selectbox(
        "Head", [ALL_HEADS, *HEADS], help="\n".join(f"{h}: {d}" for h, d in HEAD_DESCRIPTIONS.items())
    )
    sampler = columns[1].selectbox("Sampler", samplers, index=samplers.index("random"))
    # no bounds on the boxes: a bounded box turns red and the form then submits nothing, without a word; the
    # engine and the server's caps say what is wrong instead
    seed = int(columns[2].number_input("Seed", value=0, step=1))
    epochs = int(columns[3].number_input("Epochs", value=milcheck.CheckSettings().epochs, step=1))
    launched = st.form_submit_button("Run checks", type="primary")

allowed = limits.current()
readonly = allowed.readonly
DEMO_EPOCHS = milcheck.CheckSettings().epochs  # what one visitor may train in the page of a read-only demo
if launched and seed < 0:
    st.error(f"seed must be an integer >= 0, got {seed}")
elif launched and readonly:  # a demo server starts no jobs: one head's checks run here, one visitor at a time
    try:
        if head == ALL_HEADS:
            raise WeaknegError("on this read-only demo the checks run in this page: choose one head at a time")
        if epochs > DEMO_EPOCHS:
            raise WeaknegError(
                f"on this read-only demo the checks run in this page with at most {DEMO_EPOCHS} epochs, got {epochs}"
            )
        settings = milcheck.CheckSettings(head=head, sampler=sampler, seed=seed, epochs=epochs)
        with st.spinner(f"Running the MIL checks for {head} in this page (about a minute)…"):
            result, reused = milcheck.run_here(settings, store=store)
        st.session_state.setdefault("milcheck_here", {})[(sampler, seed, head)] = result
        if reused:
            st.caption(f"{head}: computed before with these settings, shown without training again.")
    except milcheck.Busy as error:
        st.warning(str(error), icon=":material/hourglass_top:")
    except WeaknegError as error:
        st.error(str(error))
elif launched:
    heads = list(HEADS) if head == ALL_HEADS else [head]
    try:
        checks = [milcheck.CheckSettings(head=h, sampler=sampler, seed=seed, epochs=epochs).validate() for h in heads]
        for settings in checks:
            allowed.check_run(settings)  # the server's epoch cap, as for runs
        ids = [milcheck.submit(store, settings) for settings in checks]
        st.session_state["milcheck_active"] = True
        st.success(f"queued MIL check job(s) {', '.join(f'#{i}' for i in ids)}; results appear below when done")
    except WeaknegError as error:
        st.error(str(error))


@st.fragment(run_every=2.0 if milcheck.active_checks(store) else None)
def progress() -> None:
    """Live progress while jobs run; the whole page reruns once they are done so the verdicts appear."""
    active = milcheck.active_checks(store)
    if not active and st.session_state.get("milcheck_active"):
        st.session_state["milcheck_active"] = False
        st.rerun()
    st.session_state["milcheck_active"] = bool(active)
    if active:
        st.info(
            "Running: "
            + "; ".join(
                f"#{r.id} {r.head} / {r.sampler} ({r.status}, "
                f"{r.epochs_done or 0}/{r.epochs_total or len(milcheck.TESTS)} tests)"
                for r in active
            )
        )


progress()

st.subheader(f"Verdicts with sampler `{sampler}`, seed {seed}")
results = milcheck.latest_results(store, sampler=sampler, seed=seed)
results.update(
    {
        h: {**r, "run_id": "this tab"}
        for (s, sd, h), r in st.session_state.get("milcheck_here", {}).items()
        if (s, sd) == (sampler, seed)
    }
)
if not results:
    st.info(
        "No finished checks for this sampler and seed yet: choose a head and press **Run checks**. "
        "From a terminal: `python -m weakneg milcheck --head all`"
    )
else:
    ordered = {h: results[h] for h in HEADS if h in results}
    st.dataframe(milcheck.verdict_table(ordered), hide_index=True)
    st.caption("Each cell: verdict (AUC on held-out training-like bags -> AUC on the swapped test bags).")
    for name, result in ordered.items():
        where = "run in this tab" if result["run_id"] == "this tab" else f"job #{result['run_id']}"
        with st.expander(f"{name}: {milcheck.overall(result['tests'])} ({where})"):
            st.dataframe(
                [
                    {
                        "test": t["test"],
                        "train AUC": round(t["train_auc"], 3),
                        "clean AUC": round(t["clean_auc"], 3),
                        "test AUC": round(t["test_auc"], 3),
                        "drop": round(t["drop"], 3),
                        "tolerance": round(t["tolerance"], 3),
                        "verdict": t["verdict"],
                        "what it learned": t["explanation"],
                    }
                    for t in result["tests"]
                ],
                hide_index=True,
            )
