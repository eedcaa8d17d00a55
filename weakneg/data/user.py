"""The user's own data by path (`--data PATH`, distinct from `--data-root`, the folder of built-in data sets).

Three formats, each documented in its module:
- `table`  (data/table.py): an instance table, CSV / Parquet / .npz; natural bags of any size;
- `images` (data/image_folder.py): image files and a CSV bag_id,path[,instance_label] with bag labels;
- `audio`  (data/audio_clips.py): a folder of clips and a CSV clip,labels.
A run's dataset_options carry the absolute path and the files' fingerprint (data/fingerprint.py: the cluster
rule and why a changed file is refused).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError
from ..targets import is_multilabel
from .fingerprint import check_fingerprint, check_readable
from .natural import vector_splits
from .options import IMAGE_OPTIONS, TABLE_OPTIONS, clip_options, fold_in_range
from .registry import DATASETS, DatasetSpec, register_dataset

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".npz")
FORMATS = {
    "table": "instance table (CSV, Parquet or .npz): bag id, features, bag label per row or a bag table",
    "images": "image bags: a CSV bag_id,path[,instance_label] (+ label column or bag table) and the image files",
    "audio": "audio clips: a CSV clip,labels and the clips (any soundfile format, rate and length)",
}
DATASET_OF_FORMAT = {"table": "table", "images": "image_bags", "audio": "audio_clips"}


def detect_format(path: Path) -> str:
    """The format a file's name and header say: a CSV with a `clip` column is audio, with a `path` column images."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"{path}: cannot tell the format from the name; give --data-format ({', '.join(FORMATS)})")
    if suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = {c.strip().strip('"') for c in handle.readline().strip().split("\t" if suffix == ".tsv" else ",")}
        if "clip" in header:
            return "audio"
        if "path" in header:
            return "images"
    return "table"


def _relative(options: dict, key: str, folder: Path) -> None:
    if options.get(key):
        value = Path(options[key]).expanduser()
        options[key] = str((value if value.is_absolute() else folder / value).resolve())


def data_files(dataset: str, options: dict) -> list[Path]:
    """Every file a run reads: the list file(s), then each image or clip (all fingerprinted)."""
    path = Path(options["path"])
    files = [path] + ([Path(options["bags"])] if options.get("bags") else [])
    if dataset == "image_bags":
        from .image_folder import image_paths

        files += image_paths(path, options)
    elif dataset == "audio_clips":
        from .audio_clips import clip_paths

        files += clip_paths(path, options)
    return files


def named_files(path: str | Path, fmt: str | None = None, options: dict | None = None) -> list[tuple[str, Path]]:
    """Every file and folder a user's data set names, resolved with links followed, each with where it is named
    ("row 7" is line 7 of the CSV, its header being line 1); reads only the CSV (nothing a row names is opened)."""
    path = check_readable(Path(path).expanduser().resolve())
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise ConfigError(f"unknown data format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    dataset, options = DATASET_OF_FORMAT[fmt], {**(options or {}), "path": str(path)}
    for key in ("bags", "image_dir", "audio_dir"):
        _relative(options, key, path.parent)
    named = [("the data file", path)]
    named += [
        (f"dataset option {key}", Path(options[key])) for key in ("bags", "image_dir", "audio_dir") if options.get(key)
    ]
    listed: list[Path] = []
    if dataset == "image_bags":
        from .image_folder import image_paths

        listed = image_paths(path, options)
    elif dataset == "audio_clips":
        from .audio_clips import clip_paths

        listed = clip_paths(path, options)
    named += [(f"row {line}", file) for line, file in enumerate(listed, start=2)]
    return [(where, file.resolve()) for where, file in named]


def user_data_options(path: str | Path, fmt: str | None = None, options: dict | None = None) -> tuple[str, dict]:
    """(dataset name, dataset_options) for a user's data: absolute paths, format checked, fingerprint recorded."""
    path = check_readable(Path(path).expanduser().resolve())
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise ConfigError(f"unknown data format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    options = {**(options or {}), "path": str(path)}
    dataset = DATASET_OF_FORMAT[fmt]
    DATASETS[dataset].check_options(options)  # a typo in an option is named before any file is read
    for key in ("bags", "image_dir", "audio_dir"):
        _relative(options, key, path.parent)
    options.pop("fingerprint", None)
    class_names_of(dataset, options)  # validates every file first: one message naming each problem
    check_fingerprint(options, data_files(dataset, options))
    return dataset, options


def missing_for(dataset: str):
    def missing(root: Path, options: dict) -> str | None:
        if not options.get("path"):
            return f"your own data ({dataset}): give its file with --data PATH"
        try:
            check_readable(options["path"])
        except ConfigError as error:
            return str(error)
        return None

    return missing


def build_table(cfg, root: Path, target: int):
    from .table import load_instance_table

    options = cfg.dataset_options
    check_fingerprint(options, data_files("table", options))
    return vector_splits(
        load_instance_table(options), target, options, cfg.seed, Path(options["path"]).name, binary_run(cfg)
    )


def binary_run(cfg) -> bool:
    """A binary run needs both kinds of bag of its class in each split; a multi-label run names every class that
    a split cannot serve at once (data/__init__.py), so its splits skip the check of the first class."""
    return not is_multilabel(cfg.target_class)


def build_images(cfg, root: Path, target: int):
    from .image_folder import image_splits

    check_fingerprint(cfg.dataset_options, data_files("image_bags", cfg.dataset_options))
    return image_splits(cfg.dataset_options, target, cfg.seed, binary_run(cfg))


def build_audio(cfg, root: Path, target: int):
    from .audio_clips import build_clips

    check_fingerprint(cfg.dataset_options, data_files("audio_clips", cfg.dataset_options))
    return build_clips(cfg, root, target)


def class_names_for(dataset: str) -> Callable[[Path, dict], list[str]]:
    def class_names(root: Path, options: dict) -> list[str]:
        return class_names_of(dataset, options)

    return class_names


def class_names_of(dataset: str, options: dict) -> list[str]:
    if dataset == "table":
        from .table import load_instance_table

        return load_instance_table(options).class_names
    if dataset == "image_bags":
        from .image_folder import load_image_bags

        return load_image_bags(options)[0].class_names
    from .audio_clips import load_clips

    return load_clips(options)[1]


def register_user_formats() -> None:
    descriptions = {
        "table": ("vector", "your own instance table (--data PATH): natural bags of any size"),
        "image_bags": ("image", "your own image bags (--data PATH): a CSV of bag ids and image files"),
        "audio_clips": ("audio", "your own audio clips (--data PATH): a CSV of clips and labels"),
    }
    builders = {"table": build_table, "image_bags": build_images, "audio_clips": build_audio}
    declared = {"table": TABLE_OPTIONS, "image_bags": IMAGE_OPTIONS, "audio_clips": clip_options()}
    for dataset, (modality, description) in descriptions.items():
        register_dataset(
            DatasetSpec(
                dataset,
                modality,
                description,
                missing_for(dataset),
                class_names_for(dataset),
                builders[dataset],
                by_path=True,
                options=declared[dataset],
                relations=fold_in_range,
            )
        )


register_user_formats()
