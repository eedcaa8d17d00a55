"""What the app's pages show, computed by the engine (pages stay thin; tests call the same functions).

runs: run table rows, one run's detail, curves and time split. launch: the form's choices and live counts.
inspect: one epoch's map with colour-by columns, class composition, selection changes, bag previews.
pairs: two runs over the same pool side by side (matching runs, aligned maps, selection overlap).
"""

# Exports are imported on first use (PEP 562): `weakneg list --filter` needs the run table's search, not the
# Inspect views that pull in torch and the models.
import importlib

_EXPORTS = {
    "inspect": (
        "COLOUR_BY",
        "SORTS",
        "EpochView",
        "bag_previews",
        "bags_table",
        "class_composition",
        "epoch_view",
        "inspect_epochs",
        "describe_counts",
        "pick_run",
        "run_bags",
        "score_meaning",
        "selection_changes",
        "selection_table",
        "spectrogram_image",
        "thumbnail_strip",
    ),
    "bag_cards": ("EpochEvidence", "Membership", "drives_text", "evidence_of", "membership_of"),
    "figures": ("SCALES", "map_points"),
    "pairs": (
        "Overlap",
        "aligned_view",
        "alignment_residual",
        "differences",
        "matching_runs",
        "pool_epochs",
        "selection_overlap",
        "shared_domain",
    ),
    "multilabel": ("SideBySide", "class_epoch_view", "class_epochs", "run_classes", "side_by_side"),
    "launch": ("LaunchCounts", "dataset_choices", "grid_warnings", "launch_counts", "models_for", "multilabel_target"),
    "text": ("code", "plain"),
    "sweep_report": ("WrittenReport", "write_sweep_report", "written_report"),
    "runs": (
        "ALL_COLUMNS",
        "DEFAULT_SHOWN",
        "RUN_LABELS",
        "RUN_COLUMNS",
        "curves",
        "display_rows",
        "latest_runs",
        "parse_tags",
        "run_detail",
        "run_rows",
        "search_runs",
        "time_split",
    ),
}
_RENAMED = {"RUN_LABELS": "LABELS"}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = (
    "bag_cards",
    "compare",
    "data_check",
    "figures",
    "inspect",
    "launch",
    "multilabel",
    "pairs",
    "playground_figures",
    "runs",
    "sweep_report",
    "text",
)

__all__ = list(_MODULE_OF)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), _RENAMED.get(name, name))
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__, *_SUBMODULES])
