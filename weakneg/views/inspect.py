"""Which negatives a run chose and why: one epoch's map with everything it can be coloured by, what the
chosen bags contain by true class, how the choice moves from epoch to epoch, and previews of single bags.

True classes inside a bag (contents) are instance labels: shown for analysis only, never used in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import projection
from ..config import RunConfig
from ..data import LoadedBags
from ..store import RunRecord, RunStore
from . import bag_cards
from .launch import bags_for

COLOUR_BY = {
    "selected": "selected this epoch",
    "score": "sampler score",
    "prob": "p(positive)",
    "times_selected": "times selected so far",
    "true_class": "true classes inside the bag",
}


@dataclass
class EpochView:
    run_id: int
    epoch: int
    method: str  # "umap" or "pca": which map is drawn
    frame: pd.DataFrame  # one row per bag: pool rows, then positive rows
    class_names: list[str]
    contents: np.ndarray  # (rows, n_classes) true-class instance counts, aligned with frame
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pool(self) -> pd.DataFrame:
        return self.frame[self.frame["kind"] == "negative"]

    def class_count(self, class_name: str) -> np.ndarray:
        """Instances of one true class in each bag (a colour-by column)."""
        return self.contents[:, self.class_names.index(class_name)]

    def describe(self, rows: npt.ArrayLike) -> list[str]:
        """The true classes inside the bags at these frame rows, e.g. "0, 5×2, 9" (text is built on demand:
        tens of thousands of strings would slow every map)."""
        return describe_counts(self.contents[np.asarray(rows, dtype=np.int64)], self.class_names)


def inspect_epochs(store: RunStore, run_id: int) -> list[int]:
    """Epochs with a saved pool (the slider's stops)."""
    return [e for e in store.saved_epochs(run_id) if e > 0]


NO_CLASS = "no class"  # a bag that carries none of the data's classes (a 0-labelled bag of a user's table)


def describe_counts(counts: np.ndarray, names: list[str]) -> list[str]:
    """One text per row of (rows, classes) instance counts: the classes present in class order, with their count
    when above one, e.g. "0, 5×2, 9"; NO_CLASS for a row with none. Built column-wise: thousands of rows in
    milliseconds."""
    if not len(counts):
        return []
    labels = np.array(names, dtype=object)
    tokens = np.where(counts > 1, labels + "×" + counts.astype(str).astype(object), np.where(counts > 0, labels, ""))
    return [", ".join(token for token in row if token) or NO_CLASS for row in tokens.tolist()]


def _lookup(counts: dict[int, int], ids: np.ndarray) -> np.ndarray:
    """counts[id] for each id (0 when absent), vectorised."""
    if not counts:
        return np.zeros(len(ids), dtype=np.int64)
    keys = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    at = np.clip(np.searchsorted(keys, ids), 0, len(keys) - 1)
    return np.where(keys[at] == ids, values[at], 0)


def epoch_view(store: RunStore, run_id: int, epoch: int) -> EpochView | None:
    """Everything the inspect page draws for one epoch; None when the epoch has no saved pool.

    Uses the best stored map (UMAP, else PCA); a run recorded without the worker's map hook (the CLI) gets a
    PCA map computed here, in memory only (a view never writes).
    """
    record, first = store.load_epoch_record(run_id, epoch), store.load_epoch_record(run_id, 0)
    arrays = record.pool if record is not None else None
    bags = first.bags if first is not None else None
    if arrays is None or bags is None:
        return None
    stored = projection.load_map(store, run_id, epoch)
    if stored is None:
        earlier = [e for e in inspect_epochs(store, run_id) if e < epoch]
        previous = next((e for e in reversed(earlier) if projection.load_map(store, run_id, e, "pca")), None)
        made = projection.make_map(store, run_id, epoch, "pca", previous)
        assert made is not None  # the epoch's pool is saved (checked above)
        xy, n_pool = made
        stored = {"method": "pca", "pool_xy": xy[:n_pool], "positive_xy": xy[n_pool:]}
    names = [str(n) for n in bags.class_names]
    pool_ids, positive_ids = arrays.pool_ids, arrays.positive_ids
    ids = np.concatenate([pool_ids, positive_ids])
    all_ids = bags.bag_ids
    order = np.argsort(all_ids, kind="stable")
    contents = bags.contents[order[np.searchsorted(all_ids, ids, sorter=order)]]  # the rows of these bags
    counts = store.selection_counts(run_id, up_to_epoch=epoch)
    n_pool, n_positive = len(pool_ids), len(positive_ids)
    pick = np.concatenate([arrays.pick_order, np.full(n_positive, -1)]).astype(np.int64)
    xy = np.concatenate([stored["pool_xy"], stored["positive_xy"]])
    frame = pd.DataFrame(
        {
            "bag_id": ids,
            "kind": ["negative"] * n_pool + ["positive"] * n_positive,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "selected": pick >= 0,
            "pick": pick,
            "score": np.concatenate([arrays.scores.astype(np.float64), np.full(n_positive, np.nan)]),
            "prob": np.concatenate([arrays.pool_prob, arrays.positive_prob]).astype(np.float64),
            "times_selected": np.concatenate([_lookup(counts, pool_ids), np.zeros(n_positive, dtype=np.int64)]),
        }
    )
    return EpochView(run_id, epoch, stored["method"], frame, names, contents, {"grad_label": arrays.grad_label})


def class_composition(view: EpochView) -> pd.DataFrame:
    """Share of instances of each true class in the selected negatives vs the whole pool, and their ratio
    (lift > 1: the sampler picks bags holding that class more often than chance: it finds it "hard").

    Data labelled by bag (a user's table, image bags, clips) count each bag's labels; a bag with none (every
    negative of a 0/1 table) counts once under NO_CLASS, so such runs still show what was chosen."""
    is_pool = (view.frame["kind"] == "negative").to_numpy()
    selected = is_pool & view.frame["selected"].to_numpy()
    contents = np.asarray(view.contents, dtype=np.float64)
    names = list(view.class_names)
    empty = contents.sum(1) == 0
    if empty[is_pool].any():
        contents, names = np.column_stack([contents, empty.astype(np.float64)]), names + [NO_CLASS]
    pool_counts = contents[is_pool].sum(0)
    chosen_counts = contents[selected].sum(0)
    pool_share = pool_counts / max(pool_counts.sum(), 1)
    chosen_share = chosen_counts / max(chosen_counts.sum(), 1)
    keep = pool_counts > 0  # the target class never appears in a negative bag
    lift = np.divide(chosen_share, pool_share, out=np.full_like(pool_share, np.nan), where=pool_share > 0)
    return pd.DataFrame(
        {"class": np.array(names)[keep], "selected": chosen_share[keep], "pool": pool_share[keep], "lift": lift[keep]}
    )


def selection_changes(store: RunStore, run_id: int, c: int | None = None) -> pd.DataFrame:
    """For each resampling epoch: how many bags were chosen, how many were also chosen at the previous
    resampling, how many are new, and the Jaccard overlap of the two choices. `c`: class c's negatives of a
    multi-label run (its compact index lists)."""
    rows, previous = [], None
    for record in store.epochs(run_id):
        if not record.resampled:
            continue
        if c is None:
            chosen = set(store.selection(run_id, record.epoch)[0].tolist())
        elif (saved := store.load_class_picks(run_id, record.epoch)) is not None:
            chosen = set(saved.picks(c).tolist())
        else:
            continue
        if previous is None:
            rows.append(
                {"epoch": record.epoch, "selected": len(chosen), "kept": np.nan, "new": np.nan, "overlap": np.nan}
            )
        else:
            kept = len(chosen & previous)
            union = len(chosen | previous)
            rows.append(
                {
                    "epoch": record.epoch,
                    "selected": len(chosen),
                    "kept": kept,
                    "new": len(chosen) - kept,
                    "overlap": kept / union if union else 1.0,
                }
            )
        previous = chosen
    return pd.DataFrame(rows, columns=["epoch", "selected", "kept", "new", "overlap"])


def run_bags(run: RunRecord) -> LoadedBags:
    """The run's bags, rebuilt deterministically from its stored config (cached per bag layout)."""
    return bags_for(RunConfig.from_dict(run.config))


def thumbnail_strip(images: np.ndarray, height: int = 72, gap: int = 2) -> np.ndarray:
    """The images of one bag side by side, scaled up by an integer factor (nearest neighbour keeps pixels
    crisp), uint8 (h, w, C)."""
    scale = max(1, height // images.shape[1])
    big = images.repeat(scale, axis=1).repeat(scale, axis=2)
    spacer = np.full((big.shape[1], gap, big.shape[3]), 255, dtype=np.uint8)
    parts = [part for image in big for part in (image, spacer)][:-1]
    strip = np.concatenate(parts, axis=1)
    return strip[..., 0] if strip.shape[-1] == 1 else strip


def spectrogram_image(log_mel: np.ndarray) -> np.ndarray:
    """A log-mel spectrogram as a grey uint8 picture, low frequencies at the bottom, time to the right.
    Mel bins are the shorter axis (128 bins against ~1000 frames for a 10 s clip)."""
    values = np.asarray(log_mel, dtype=np.float32)
    if values.shape[0] > values.shape[1]:  # (frames, mels) -> (mels, frames)
        values = values.T
    low, high = np.nanpercentile(values, [1, 99]) if values.size else (0.0, 1.0)
    scaled = np.clip((values - low) / (high - low + 1e-9), 0, 1)
    return np.round(255 * scaled[::-1]).astype(np.uint8)


def bag_previews(
    run: RunRecord,
    view: EpochView,
    bag_ids: list[int],
    limit: int = 12,
    membership: bag_cards.Membership | None = None,
    evidence: bag_cards.EpochEvidence | None = None,
) -> list[dict[str, Any]]:
    """What a person needs to look at chosen bags: id, kind, score, probability, true classes, the bag itself (an
    image strip, or a waveform and a log-mel picture for audio) and, with the epoch's `evidence`, its instances'
    evidence (`instances`) with the driving instance marked under the strip.

    With the run's saved `membership` (bag_cards.membership_of) only the shown bags' own files are read. Without it
    (a run saved before membership was) the run's bags are rebuilt from its config, and each preview says
    `rebuilt`."""
    modality = bag_cards.modality_of(run.config)
    if membership is not None and modality == "image" and membership.sources is None:
        membership = None  # saved before image sources were: only a rebuild can show the images
    data = run_bags(run) if membership is None else None
    if data is not None:
        position_of = {int(b): i for i, b in enumerate(data.train.ids)}
    else:
        assert membership is not None  # else the bags were rebuilt above
        position_of = membership.position_of
    rows = view.frame.reset_index(drop=True).rename_axis("row").reset_index().set_index("bag_id")
    wanted = [b for b in dict.fromkeys(int(b) for b in bag_ids) if b in rows.index]
    # the sampler's picks first, in pick order, then the rest by score
    wanted.sort(key=lambda b: (rows.at[b, "pick"] < 0, rows.at[b, "pick"], -np.nan_to_num(rows.at[b, "score"])))
    wanted = [b for b in wanted if b in position_of][:limit]
    shown = {}
    if membership is not None:  # the saved membership: no rebuild
        try:
            shown = bag_cards.shown_images(membership, run.config, wanted)
        except bag_cards.UNREADABLE:
            shown = {}  # read bag by bag below, so each card can say what it cannot read
    previews = []
    for bag_id in wanted:
        info = rows.loc[bag_id]
        preview = {
            "bag_id": bag_id,
            "kind": info["kind"],
            "score": float(info["score"]),
            "prob": float(info["prob"]),
            "pick": int(info["pick"]),
            "classes": view.describe([int(info["row"])])[0],
            "modality": modality,
            "rebuilt": data is not None,
        }
        instances = evidence.instances(bag_id) if evidence is not None else None
        driver = None
        if instances is not None:
            preview["instances"] = instances
            driver = int(np.flatnonzero(instances["drives"].to_numpy())[0])
        try:
            if membership is not None:
                media = bag_cards.bag_media(membership, run.config, bag_id, shown.get(bag_id))
            else:
                assert data is not None  # rebuilt above
                media = _rebuilt_media(data.train, position_of[bag_id])
        except bag_cards.UNREADABLE as error:  # files moved or deleted since the run: the card says so
            media, preview["unreadable"] = {}, f"this bag's files cannot be read now: {error}"
        if "images" in media:
            preview["image"] = (
                thumbnail_strip(media["images"])
                if driver is None
                else bag_cards.highlighted_strip(media["images"], driver)
            )
        for key in ("name", "waveform", "sample_rate"):
            if key in media:
                preview[key] = media[key]
        if "log_mel" in media:
            preview["log_mel"] = spectrogram_image(media["log_mel"])
        previews.append(preview)
    return previews


def _rebuilt_media(bags, position: int) -> dict[str, Any]:
    """bag_cards.bag_media's keys, from rebuilt bags (runs saved before membership was)."""
    media: dict[str, Any] = {}
    if hasattr(bags, "bag_images"):
        media["images"] = bags.bag_images(position)
    if hasattr(bags, "names"):
        media["name"] = str(bags.names[position])  # e.g. the clip's YouTube id
    if hasattr(bags, "waveform"):
        samples, rate = bags.waveform(position)  # (mono float32 samples, sample rate)
        media["waveform"], media["sample_rate"] = np.asarray(samples, dtype=np.float32), int(rate)
    if hasattr(bags, "log_mel"):
        media["log_mel"] = np.asarray(bags.log_mel(position))
    return media


# --- why these bags: what each sampler's score is, and the chosen bags as a sortable, filterable table ------------

SCORE_MEANING = {
    "random": "Score = the random key each bag drew; the k largest keys win, so the choice is uniform.",
    "full": "No score: every negative bag is used each epoch.",
    "margin": "Score = |p(positive) - p(negative)|: 0 on the decision boundary, 1 when certain; the smallest win.",
    "least_confidence": "Score = 1 - max(p): 0.5 when undecided, 0 when certain; the largest win.",
    "entropy": "Score = the prediction's entropy in nats (at most log 2 = 0.69); the largest win.",
    "grad_norm": "Score = the norm of the bag's last-layer loss gradient (at the label the map names); the largest "
    "win: the bags that would move the model most.",
    "badge": "Score = D², the squared gradient distance to the nearest bag already chosen, at the moment this bag was "
    "picked (the first pick: its squared norm). BADGE draws each next bag with probability proportional to "
    "D², so the pick order is not the score order: a bag with a large D² can be drawn late, and a chosen "
    "bag's D² only shrinks as more bags are chosen near it.",
    "kl_prob": "Score = KL(mean positive prediction || the bag's prediction) in nats; the smallest win: the negatives "
    "the model sees most like its positives.",
    "kl_embedding": "Score = KL(mean positive softmax(h) || the bag's softmax(h)) on bag features; the smallest win.",
    "svm_margin": "Score = the bag's signed margin under a linear SVM of positives against the pool; the smallest "
    "win (negatives on the positive side first).",
    "coreset": "Score = the bag's feature distance to the nearest center (every positive bag, then each pick) when it "
    "was picked; each pick is the farthest bag, so picked distances never increase.",
    "adaptive": "Score = the bag's probability of being the first draw, growing with its loss level; bags are drawn "
    "at random with these probabilities, so high scores are likelier but not certain.",
    "mix": "Score = the weighted sum of gradient norm, closeness to the positives and distance to the other "
    "negatives, each rescaled to [0, 1]; the largest win.",
}
SORTS = {"pick": "pick order", "score": "score (high first)", "prob": "p(positive) (high first)"}


def score_meaning(sampler: str) -> str:
    return SCORE_MEANING.get(sampler, "Score = the value the sampler ranked the bags by.")


def selection_table(view: EpochView, sort: str = "pick", true_class: str | None = None) -> pd.DataFrame:
    """Every bag the sampler chose this epoch: bag id, pick order (1 = first), score, p(positive) and its true
    classes, sorted by pick order, score or p(positive) and optionally only bags holding one true class."""
    pool = view.pool
    return _bag_table(view, pool[pool["selected"]], sort, true_class)


def bags_table(view: EpochView, bag_ids, sort: str = "pick", true_class: str | None = None) -> pd.DataFrame:
    """The same table for any bags of the pool (a box or lasso on the map, a named selection): pick order is
    empty for bags the sampler did not choose; bags not in this epoch's pool are left out."""
    pool = view.pool
    return _bag_table(view, pool[pool["bag_id"].isin([int(b) for b in bag_ids])], sort, true_class)


def _bag_table(view: EpochView, chosen: pd.DataFrame, sort: str, true_class: str | None) -> pd.DataFrame:
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    if true_class is not None:
        chosen = chosen[view.class_count(true_class)[chosen.index.to_numpy()] > 0]
    picks = chosen["pick"].astype(int)
    table = pd.DataFrame(
        {
            "bag_id": chosen["bag_id"].astype(int),
            "pick": (picks + 1).where(picks >= 0).astype("Int64"),
            "score": chosen["score"],
            "p_positive": chosen["prob"],
            "true_classes": view.describe(chosen.index.to_numpy()),
        }
    )
    if sort == "pick":
        table = table.sort_values(["pick", "bag_id"], na_position="last", kind="stable")
    else:
        table = table.sort_values(
            "score" if sort == "score" else "p_positive", ascending=False, kind="stable", na_position="last"
        )
    return table.reset_index(drop=True)


def pick_run(store: RunStore, requested: str | None, recent: list[RunRecord]) -> RunRecord | None:
    """The run a link names, however old (not only among the recent ones); the newest run without a link.
    None when the link names no run."""
    if requested is None:
        return recent[0] if recent else None
    if not str(requested).isdigit():
        return None
    run = store.get_run(int(requested))
    return run if run is not None and run.kind == "run" else None
