"""What the app's pages show, computed by the engine (pages stay thin; tests call the same functions).

runs: run table rows, one run's detail, curves and time split. launch: the form's choices and live counts.
inspect: one epoch's map with colour-by columns, class composition, selection changes, bag previews.
pairs: two runs over the same pool side by side (matching runs, aligned maps, selection overlap).
"""

from .inspect import (
    COLOUR_BY,
    SORTS,
    EpochView,
    bag_previews,
    bags_table,
    class_composition,
    epoch_view,
    inspect_epochs,
    describe_counts,
    pick_run,
    run_bags,
    score_meaning,
    selection_changes,
    selection_table,
    spectrogram_image,
    thumbnail_strip,
)
from .bag_cards import EpochEvidence, Membership, drives_text, evidence_of, membership_of
from .figures import SCALES, map_points
from .pairs import (
    Overlap,
    aligned_view,
    alignment_residual,
    differences,
    matching_runs,
    selection_overlap,
    shared_domain,
)
from .multilabel import SideBySide, class_epoch_view, class_epochs, run_classes, side_by_side
from .launch import LaunchCounts, dataset_choices, grid_warnings, launch_counts, models_for
from .text import code, plain
from .sweep_report import WrittenReport, write_sweep_report, written_report
from .runs import (
    ALL_COLUMNS,
    DEFAULT_SHOWN,
    LABELS as RUN_LABELS,
    RUN_COLUMNS,
    curves,
    display_rows,
    latest_runs,
    parse_tags,
    run_detail,
    run_rows,
    search_runs,
    time_split,
)

__all__ = [
    # multilabel: one class of a multi-label run, and the run beside the runs of one class each
    "SideBySide",
    "class_epoch_view",
    "class_epochs",
    "run_classes",
    "side_by_side",
    # inspect: one epoch's map, bag cards and their evidence, two runs side by side
    "COLOUR_BY",
    "SORTS",
    "EpochView",
    "bag_previews",
    "bags_table",
    "class_composition",
    "describe_counts",
    "epoch_view",
    "inspect_epochs",
    "pick_run",
    "run_bags",
    "score_meaning",
    "selection_changes",
    "selection_table",
    "spectrogram_image",
    "thumbnail_strip",
    "EpochEvidence",
    "Membership",
    "drives_text",
    "evidence_of",
    "membership_of",
    "SCALES",
    "map_points",
    "Overlap",
    "aligned_view",
    "alignment_residual",
    "differences",
    "matching_runs",
    "selection_overlap",
    "shared_domain",
    # launch
    "LaunchCounts",
    "dataset_choices",
    "grid_warnings",
    "launch_counts",
    "models_for",
    # text a person typed, safe in Markdown
    "code",
    "plain",
    # sweeps
    "WrittenReport",
    "write_sweep_report",
    "written_report",
    # runs
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
]
