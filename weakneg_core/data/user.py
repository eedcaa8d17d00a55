"""The user's own data by path (`--data PATH`, distinct from `--data-root`, the folder of built-in data sets).

Formats (docs in each module): `table` (data/table.py: an instance table, CSV / Parquet / .npz, natural
bags of any size). A run's dataset_options carry the absolute path and the files' fingerprint.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .fingerprint import check_fingerprint, check_readable
from .natural import vector_splits
from .table import load_instance_table

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".npz")
FORMATS = {"table": "instance table (CSV, Parquet or .npz): bag id, features, bag label per row or a bag table"}


def detect_format(path: Path) -> str:
    if path.suffix.lower() in TABLE_SUFFIXES:
        return "table"
    raise ConfigError(f"{path}: cannot tell the format from the name; give --format ({', '.join(FORMATS)}); "
                      f"an instance table ends in {', '.join(TABLE_SUFFIXES)}")


def data_files(options: dict) -> list[Path]:
    files = [Path(options["path"]).expanduser()]
    if options.get("bags"):
        bags = Path(options["bags"]).expanduser()
        files.append(bags if bags.is_absolute() else files[0].parent / bags)
    return files


def user_data_options(path: str | Path, fmt: str | None = None, options: dict | None = None) -> tuple[str, dict]:
    """(dataset name, dataset_options) for a user's data: absolute path, format checked, fingerprint recorded."""
    path = check_readable(Path(path).expanduser().resolve())
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise ConfigError(f"unknown data format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    options = {**(options or {}), "path": str(path)}
    if options.get("bags"):
        bags = Path(options["bags"]).expanduser()
        options["bags"] = str((bags if bags.is_absolute() else path.parent / bags).resolve())
    options.pop("fingerprint", None)
    check_fingerprint(options, data_files(options))
    return fmt, options


def table_missing(root: Path, options: dict) -> str | None:
    if not options.get("path"):
        return "your own instance table: give its file with --data PATH"
    try:
        for path in data_files(options):
            check_readable(path)
    except ConfigError as error:
        return str(error)
    return None


def build_table(cfg, root: Path, target: int):
    options = cfg.dataset_options
    check_fingerprint(options, data_files(options))
    return vector_splits(load_instance_table(options), target, options, cfg.seed, Path(options["path"]).name)


def register() -> None:
    from . import DatasetSpec, register_dataset

    register_dataset(DatasetSpec("table", "vector", "your own instance table (--data PATH): natural bags of any "
                                 "size, features per instance, bag labels", table_missing,
                                 lambda root, options: load_instance_table(options).class_names, build_table))


register()
