"""A sweep's report as the Sweeps page shows it: the files `report.write_report` wrote, found again after a
refresh or a restart (reads only; writing is the button's job)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..store import RunStore

FIGURES = {"figure1": "figure1.png", "curves_chart": "curves.png"}


@dataclass(frozen=True)
class WrittenReport:
    folder: Path
    files: dict[str, Path]  # name -> path, as write_report returns them

    @property
    def figures(self) -> list[Path]:
        """The report's charts, Figure 1 first, those present."""
        return [self.files[name] for name in FIGURES if name in self.files]

    @property
    def markdown(self) -> Path | None:
        return self.files.get("markdown")


def report_folder(sweep_id: str) -> Path:
    """Where `write_report` puts a sweep's report by default."""
    return paths.home() / "reports" / sweep_id


def written_report(sweep_id: str) -> WrittenReport | None:
    """The report already written for a sweep (its report.md present), or None."""
    folder = report_folder(sweep_id)
    if not (folder / "report.md").is_file():
        return None
    files = {path.stem: path for path in sorted(folder.glob("*.csv"))}
    files.update({name: folder / file for name, file in FIGURES.items() if (folder / file).is_file()})
    files["markdown"] = folder / "report.md"
    return WrittenReport(folder, files)


def write_sweep_report(store: RunStore, sweep_id: str) -> WrittenReport:
    """Write the sweep's report (report.write_report) into its default folder and return it as the page shows it."""
    from ..report import write_report

    return WrittenReport(report_folder(sweep_id), write_report(store, sweep_id))
