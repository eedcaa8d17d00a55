"""`data check`: what a data set holds and what a run on it would look like, without building or training anything.

For the user's own files (an instance table, image bags, audio clips) and the natural-bag data sets (the MIL
benchmarks): bags, instances per bag (min / median / max), positive bags per class, label density (when
instance labels are given), the problems found (missing columns, empty bags, bad labels, NaN features,
files that do not open: each named), and k, the negatives per epoch, at the chosen P-N ratio for the target
class on the training split. Reads files only; writes nothing. The app shows user files only under the
folders an operator allows (WEAKNEG_DATA_FOLDERS, os.pathsep-separated); unset, none are allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import RunConfig, check_negatives, negatives_per_epoch, negatives_warning
from ..data import resolve_class
from ..data.natural import NaturalBags, test_positions
from ..errors import ConfigError, WeaknegError

ALLOWED_ENV = "WEAKNEG_DATA_FOLDERS"
SHOWN_OUTSIDE = 3  # rows named in the problem about files outside the allowed folders


@dataclass
class DataCheck:
    source: str
    dataset: str | None = None
    options: dict = field(default_factory=dict)  # the dataset_options a run on these data gets (path, fingerprint)
    class_names: list[str] = field(default_factory=list)
    n_bags: int = 0
    n_instances: int = 0
    sizes: tuple[int, float, int] | None = None  # instances per bag: min, median, max
    positives: dict[str, int] = field(default_factory=dict)  # positive bags per class
    label_density: float | None = None  # mean share of target instances in positive bags (instance labels given)
    problems: list[str] = field(default_factory=list)
    target: str | None = None
    n_pos_train: int = 0
    pool: int = 0
    k: int = 0
    pn_ratio: float = 0.5
    warning: str | None = None  # k covers the whole pool: the sampler would have no effect
    # no target class given and several classes: per class, {"label_density", "n_pos_train", "k", "pool"}
    by_class: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """What `data check` prints, one fact per line."""
        if not self.ok:
            return [f"{self.source}: {len(self.problems)} problem(s)"] + [f"  - {p}" for p in self.problems]
        assert self.sizes is not None  # measured whenever the data have no problem
        low, median, high = self.sizes
        if self.target is None:
            return self._lines_by_class()
        lines = [
            f"{self.source} ({self.dataset})",
            f"bags: {self.n_bags:,}   instances: {self.n_instances:,}   instances per bag: min {low}, "
            f"median {median:g}, max {high}",
            "positive bags per class: " + ", ".join(f"{name} {count:,}" for name, count in self.positives.items()),
            "label density: "
            + (
                "unknown (no instance labels)"
                if self.label_density is None
                else f"{self.label_density:.3f} of a positive bag's instances are positive"
            ),
            "broken or missing items: none",
            f"a run for class {self.target!r} at P-N ratio {self.pn_ratio:g}: {self.n_pos_train:,} positive "
            f"training bags, {self.k:,} of {self.pool:,} negatives per epoch",
        ]
        return lines + ([f"warning: {self.warning}"] if self.warning else [])

    def _lines_by_class(self) -> list[str]:
        """No target class given: the facts that depend on it, for every class (never one class's figures
        presented as the data's)."""
        assert self.sizes is not None  # measured whenever the data have no problem (lines() asks only then)
        low, median, high = self.sizes
        densities = [c["label_density"] for c in self.by_class.values()]
        return [
            f"{self.source} ({self.dataset})",
            f"bags: {self.n_bags:,}   instances: {self.n_instances:,}   instances per bag: min {low}, "
            f"median {median:g}, max {high}",
            "positive bags per class: " + ", ".join(f"{name} {count:,}" for name, count in self.positives.items()),
            "label density by class: "
            + (
                "unknown (no instance labels)"
                if all(d is None for d in densities)
                else ", ".join(
                    f"{name} {'-' if c['label_density'] is None else format(c['label_density'], '.3f')}"
                    for name, c in self.by_class.items()
                )
            ),
            "broken or missing items: none",
            f"a run at P-N ratio {self.pn_ratio:g} (give --target-class for one class), per class: "
            + "; ".join(
                f"{name}: {c['n_pos_train']:,} positive training bags, {c['k']:,} of {c['pool']:,} negatives"
                for name, c in self.by_class.items()
            ),
        ]


def natural_of(dataset: str, options: dict) -> NaturalBags:
    """The validated description of a natural-bag data set (nothing built, nothing normalised)."""
    if dataset == "table":
        from ..data.table import load_instance_table

        return load_instance_table(options)
    if dataset == "image_bags":
        from ..data.image_folder import load_image_bags

        return load_image_bags(options)[0]
    if dataset == "audio_clips":
        from ..data.audio_clips import load_clips, natural_clips

        return natural_clips(*load_clips(options))
    from ..data import mil

    if dataset in mil.BENCHMARKS:
        return mil.load(dataset)
    raise ConfigError(
        f"{dataset!r} is not a file or a natural-bag data set (the MIL benchmarks: {', '.join(mil.BENCHMARKS)})"
    )


def label_density(natural: NaturalBags, target: int) -> float | None:
    if natural.instance_labels is None:
        return None
    values = natural.instance_labels
    positive = values == natural.class_names[target] if values.dtype.kind in "OUS" else values.astype(float) == 1
    shares = np.bincount(natural.bag_of, weights=positive, minlength=natural.n_bags) / np.maximum(natural.sizes, 1)
    bags = natural.labels(target) == 1
    return float(shares[bags].mean()) if bags.any() else None


def check_data(
    source: str | Path,
    fmt: str | None = None,
    target: int | str | None = 0,
    pn_ratio: float = 0.5,
    sampler: str = "random",
    seed: int = 0,
    options: dict | None = None,
    within: list[Path] | None = None,
) -> DataCheck:
    """Describe a user's file (or a natural-bag data set by name); problems are collected, not raised.
    `target` None: the figures that depend on the class are given for every class (one class: that class).
    `within`: the folders every file the data name must lie in (the app's; see check_allowed_data)."""
    from ..data.user import user_data_options

    result = DataCheck(str(source), pn_ratio=pn_ratio)
    options = dict(options or {})
    try:
        if within is not None and (looks_like_path(str(source)) or fmt):
            result.problems = files_outside(source, fmt, options, within)
            if result.problems:  # checked before any file a row names is opened
                return result
        if looks_like_path(str(source)) or fmt:
            result.dataset, options = user_data_options(source, fmt, options)
        else:
            from ..data import mil

            result.dataset = str(source)
            options = {**(mil.DEFAULT_OPTIONS if result.dataset in mil.BENCHMARKS else {}), **options}
        natural = natural_of(result.dataset, options)
        index = resolve_class(natural.class_names, 0 if target is None else target)
    except WeaknegError as error:
        result.problems = problems_of(str(error))
        return result
    result.options = options
    sizes = natural.sizes
    result.class_names = list(natural.class_names)
    result.n_bags, result.n_instances = natural.n_bags, int(sizes.sum())
    result.sizes = (int(sizes.min()), float(np.median(sizes)), int(sizes.max()))
    result.positives = {
        name: int(natural.contents[:, c].astype(bool).sum()) for c, name in enumerate(natural.class_names)
    }
    try:
        if target is None and len(natural.class_names) > 1:
            result.by_class = {
                name: run_counts(natural, c, options, seed, pn_ratio, sampler)
                for c, name in enumerate(natural.class_names)
            }
            return result
        counts = run_counts(natural, index, options, seed, pn_ratio, sampler)
        check_negatives(counts["n_pos_train"], pn_ratio, counts["pool"], sampler)
    except WeaknegError as error:
        result.problems = problems_of(str(error))
        return result
    result.target = natural.class_names[index]
    result.label_density = counts["label_density"]
    result.n_pos_train, result.pool, result.k = counts["n_pos_train"], counts["pool"], counts["k"]
    result.warning = negatives_warning(result.n_pos_train, pn_ratio, result.pool, sampler)
    return result


def run_counts(natural: NaturalBags, index: int, options: dict, seed: int, pn_ratio: float, sampler: str) -> dict:
    """For one target class: label density, positive training bags, pool and k (the split a run would use)."""
    labels = natural.labels(index)
    train = np.ones(natural.n_bags, dtype=bool)
    train[test_positions(natural, labels, options, seed)] = False
    n_pos, pool = int(labels[train].sum()), int((labels[train] == 0).sum())
    return {
        "label_density": label_density(natural, index),
        "n_pos_train": n_pos,
        "pool": pool,
        "k": negatives_per_epoch(n_pos, pn_ratio, pool, sampler),
    }


def run_config(report: DataCheck, form: RunConfig) -> RunConfig:
    """The Launch form's settings, on the checked data: its dataset, options, target and a model that fits."""
    from ..data import DATASETS
    from ..models import DEFAULT_MODEL, models_for

    if report.dataset is None:
        raise WeaknegError(f"{report.source}: the data could not be read; fix what the check says first")
    modality = DATASETS[report.dataset].modality
    model = form.model if form.model in models_for(modality) else DEFAULT_MODEL[modality]
    return form.replace(
        dataset=report.dataset,
        dataset_options=dict(report.options),
        target_class=report.target,
        model=model,
        data_root=None,
    )


def looks_like_path(source: str) -> bool:
    return Path(source).expanduser().exists() or os.sep in source or bool(Path(source).suffix)


def problems_of(message: str) -> list[str]:
    """A validation message (problems joined by '; ') -> one problem per item."""
    head, sep, rest = message.partition(" problem(s) in ")
    if sep and head.isdigit():
        message = rest.split(": ", 1)[1] if ": " in rest else rest
    return [part.strip() for part in message.split("; ") if part.strip()]


def allowed_folders() -> list[Path]:
    """The folders under which the app may read a user's files (WEAKNEG_DATA_FOLDERS); none when unset."""
    return [Path(p).expanduser().resolve() for p in os.environ.get(ALLOWED_ENV, "").split(os.pathsep) if p.strip()]


def check_allowed_data(path: str, fmt: str | None = None, **settings) -> DataCheck:
    """`check_data` for the app: the file must lie under an allowed folder (else ConfigError) and so must every
    file its rows name, links resolved (else problems naming the rows)."""
    return check_data(allowed_path(path), fmt, within=allowed_folders(), **settings)


def files_outside(source: str | Path, fmt: str | None, options: dict, folders: list[Path]) -> list[str]:
    """One problem naming the rows whose files lie outside `folders` (absolute paths, ../ escapes, links)."""
    from ..data.user import named_files

    outside = [(where, file) for where, file in named_files(source, fmt, options) if not inside(file, folders)]
    if not outside:
        return []
    shown = "; ".join(f"{where}: {file}" for where, file in outside[:SHOWN_OUTSIDE])
    more = f" and {len(outside) - SHOWN_OUTSIDE} more" if len(outside) > SHOWN_OUTSIDE else ""
    return [
        f"{len(outside)} file(s) named by {Path(source).name} lie outside the folders this app may read "
        f"({', '.join(map(str, folders))}): {shown}{more}"
    ]


def inside(path: Path, folders: list[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


def allowed_path(path: str) -> Path:
    """The resolved path when it lies under an allowed folder (a relative name is taken in the first allowed folder
    that holds it); else ConfigError saying how an operator allows it."""
    folders = allowed_folders()
    if not folders:
        raise ConfigError(
            f"reading your own files from the app is off: an operator allows folders with "
            f"{ALLOWED_ENV}=/data/one{os.pathsep}/data/two (the command line needs no permission)"
        )
    given = Path(path).expanduser()
    if not given.is_absolute():  # a bare or relative name is looked up in the allowed folders, never the server's cwd
        found = [folder / given for folder in folders if (folder / given).exists()]
        given = found[0] if found else folders[0] / given
    resolved = given.resolve()
    if not inside(resolved, folders):
        raise ConfigError(f"{resolved} is outside the folders this app may read: {', '.join(map(str, folders))}")
    return resolved
