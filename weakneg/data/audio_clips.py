"""The user's own audio clips: a folder of clips (any format soundfile reads, any sample rate and length) and a
CSV `clip,labels[,split]`; labels separated by `;` (or `,` inside quotes when no clip uses `;`; an empty cell: no
class), or one 0/1 column per class named by option label_columns (data/labels.py). A clip is a bag, as in AudioSet;
the same PSLA features and feature cache as `audioset` (data/audio.py). Clip paths are relative to the CSV's
folder or to dataset option audio_dir. Without a split column, runs test on fold `fold` of `folds` (default 5)
stratified by the target class. Option classes: the known class list that labels must come from.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..extras import need
from ..targets import is_multilabel
from .audio import AudioBags, Clip, build_audio_splits
from .labels import label_sets, names_option, one_hot_labels
from .natural import NaturalBags, test_positions
from .options import check_options, clip_options, fold_in_range
from .table import SPLITS, file_cache_key, listed_files, problem_line, read_frame

SHOWN = 3


def _shown(values: list) -> str:
    return ", ".join(map(str, values[:SHOWN])) + (f" and {len(values) - SHOWN} more" if len(values) > SHOWN else "")


def clip_paths(path: Path, options: dict) -> list[Path]:
    return listed_files(path, options, "clip_column", "clip", "audio_dir")


@functools.lru_cache(maxsize=4)
def _read(path_text: str, stamp: tuple, options_json: str) -> tuple[list[Clip], list[str], np.ndarray | None]:
    soundfile = need("soundfile", "audio", "reading audio clips")
    path, options = Path(path_text), json.loads(options_json)
    check_options("audio_clips", clip_options(), options, fold_in_range)
    frame = read_frame(path)
    clip_col, labels_col = options.get("clip_column", "clip"), options.get("labels_column", "labels")
    label_columns = names_option(options.get("label_columns"))
    problems = [f"{path.name}: missing clip column {clip_col!r}"] if clip_col not in frame else []
    if label_columns and (absent := [c for c in label_columns if c not in frame]):
        problems.append(f"{path.name}: missing label column(s) {_shown(absent)} (dataset option label_columns)")
    elif not label_columns and labels_col not in frame:
        problems.append(
            f"{path.name}: missing labels column {labels_col!r} (or one 0/1 column per class named by dataset "
            f"option label_columns)"
        )
    if not problems and len(frame) == 0:
        problems.append(f"{path.name}: no rows")
    if problems:
        raise ConfigError(problem_line(path, problems))
    classes = names_option(options.get("classes"))
    if label_columns:
        found, sets = one_hot_labels(frame, label_columns, classes, path.name, problems)
    else:
        sets = label_sets(frame[labels_col].tolist(), classes)
        found = sorted(set().union(*sets))
    label_lists = [sorted(labels) for labels in sets]
    if classes is not None and sorted(set(found) - set(classes)) and not label_columns:
        problems.append(
            f"{path.name}: labels {_shown(sorted(set(found) - set(classes)))} are not in the class list {classes}"
        )
    names = list(classes) if classes is not None else found
    if not names:
        problems.append(f"{path.name}: no clip has a label")
    broken = []
    files = clip_paths(path, options)
    for file in files:
        try:
            soundfile.info(str(file))
        except Exception as error:  # soundfile raises its own error types; any failure means it does not open
            broken.append(f"{file.name} ({'missing' if not file.exists() else 'not audio: ' + type(error).__name__})")
    if broken:
        problems.append(f"{len(broken)} of {len(files)} clip(s) do not open: {_shown(broken)}")
    duplicated = sorted(set(frame[clip_col][frame[clip_col].duplicated()].astype(str)))
    if duplicated:
        problems.append(f"{path.name}: clip(s) {_shown(duplicated)} are listed more than once")
    split = None
    split_col = options.get("split_column", "split")
    if split_col in frame:
        split = frame[split_col].astype(str).str.lower().to_numpy()
        bad = sorted(set(split) - set(SPLITS))
        if bad:
            problems.append(f"{path.name}: split values must be train or test, found {_shown(bad)}")
    if problems:
        raise ConfigError(problem_line(path, problems))
    index = {name: i for i, name in enumerate(names)}
    clips = [
        Clip(row, file.stem, file, [index[label] for label in labels])
        for row, (file, labels) in enumerate(zip(files, label_lists))
    ]
    return clips, names, split


def load_clips(options: dict) -> tuple[list[Clip], list[str], np.ndarray | None]:
    """(clips, class names, split per clip or None), validated; parsed once per process while the CSV is unchanged
    (the clips themselves are cached as features, as for AudioSet)."""
    return _read(*file_cache_key(options, "audio clips need their CSV"))


def natural_clips(clips: list[Clip], names: list[str], split: np.ndarray | None) -> NaturalBags:
    """The clips as NaturalBags (one instance each): what `data check` and the fold split read."""
    contents = np.zeros((len(clips), len(names)), dtype=np.int16)
    for row, clip in enumerate(clips):
        contents[row, clip.classes] = 1
    return NaturalBags(
        np.zeros((len(clips), 0), dtype=np.float32),
        np.arange(len(clips)),
        np.array([c.name for c in clips], dtype=object),
        contents,
        names,
        split,
    )


def build_clips(cfg, root: Path, target: int) -> tuple[AudioBags, AudioBags]:
    clips, names, split = load_clips(cfg.dataset_options)
    natural = natural_clips(clips, names, split)
    strata = natural.strata(target, binary=not is_multilabel(cfg.target_class))
    test = set(test_positions(natural, strata, cfg.dataset_options, cfg.seed).tolist())
    splits = {
        "train": [c for i, c in enumerate(clips) if i not in test],
        "test": [c for i, c in enumerate(clips) if i in test],
    }
    return build_audio_splits(cfg, splits, names, target, Path(cfg.dataset_options["path"]).name)
