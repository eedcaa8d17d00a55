"""What the app's pages show, computed by the engine (pages stay thin; tests call the same functions).

runs: run table rows, one run's detail, curves and time split. launch: the form's choices and live counts.
inspect: one epoch's map with colour-by columns, class composition, selection changes, bag previews.
pairs: two runs over the same pool side by side (matching runs, aligned maps, selection overlap).
"""

from .inspect import (COLOUR_BY, SORTS, EpochView, bag_previews, class_composition, epoch_view, inspect_epochs,
                      pick_run, run_bags, score_meaning, selection_changes, selection_table, spectrogram_image,
                      thumbnail_strip)
from .figures import ALTAIR_UP_TO, SCALES, map_chart, map_figure, map_points, selected_bag_ids
from .inspect import describe_counts
from .pairs import Overlap, aligned_view, differences, matching_runs, selection_overlap, shared_domain
from .launch import LaunchCounts, dataset_choices, launch_counts, models_for
from .runs import (ALL_COLUMNS, DEFAULT_SHOWN, LABELS as RUN_LABELS, RUN_COLUMNS, curves, display_rows, latest_runs,
                   parse_tags, run_detail, run_rows, search_runs, time_split)

__all__ = ["ALTAIR_UP_TO", "SCALES", "SORTS", "map_chart", "pick_run", "score_meaning",
           "selection_table", "ALL_COLUMNS", "COLOUR_BY", "DEFAULT_SHOWN", "RUN_LABELS", "display_rows", "parse_tags", "search_runs", "EpochView", "LaunchCounts", "RUN_COLUMNS", "bag_previews", "class_composition", "curves",
           "dataset_choices", "epoch_view", "inspect_epochs", "latest_runs", "launch_counts", "map_figure",
           "models_for", "run_bags", "run_detail", "run_rows", "selected_bag_ids",
           "selection_changes", "spectrogram_image", "thumbnail_strip", "time_split"]
__all__ += ["map_points", "describe_counts", "Overlap", "aligned_view", "differences", "matching_runs", "selection_overlap",
            "shared_domain"]
