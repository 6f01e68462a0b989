"""PNG charts of a run with matplotlib: throughput per subject for each workload, and the headline ratios.

matplotlib is no dependency of datatier: ``python -m bench.peers.install`` puts it
in ``bench/.peers``. Without it ``draw_charts`` draws nothing and says why, and the
report carries that note instead of the pictures.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from bench._results import RunResult, WorkloadResult
from bench.peers._site import INSTALL_HINT, activate


def _pyplot() -> Any:
    activate()
    os.environ.setdefault("MPLBACKEND", "Agg")  # files only, never a window
    try:
        importlib.import_module("matplotlib").use("Agg")
        return importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise ImportError(f"matplotlib is not installed ({INSTALL_HINT})") from exc


def draw_charts(run: RunResult, folder: Path) -> tuple[dict[str, str], str | None]:
    """Draw the run's charts into ``folder``; (workload name -> path relative to its parent, note)."""
    try:
        plt = _pyplot()
    except ImportError as exc:
        return {}, f"skipped: {exc}"
    folder.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, str] = {}
    for workload in run.workloads:
        if _throughput_chart(plt, workload, folder / f"{workload.name}.png"):
            drawn[workload.name] = f"{folder.name}/{workload.name}.png"
    if _ratio_chart(plt, run.workloads, folder / "summary.png"):
        drawn["summary"] = f"{folder.name}/summary.png"
    return drawn, None


def _throughput_chart(plt: Any, workload: WorkloadResult, path: Path) -> bool:
    measured = [m for m in workload.measurements if m.throughput is not None]
    if not measured:
        return False
    labels = [f"{m.subject} {m.operation}" for m in measured]
    medians = [m.throughput.median for m in measured if m.throughput is not None]
    low = [m.throughput.median - m.throughput.min for m in measured if m.throughput is not None]
    high = [m.throughput.max - m.throughput.median for m in measured if m.throughput is not None]
    colours = [_colour(m.subject) for m in measured]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(measured) + 1.2))
    positions = list(range(len(measured)))
    axes.barh(positions, medians, xerr=[low, high], color=colours, capsize=3)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel("operations per second (median of the rounds, bars: min-max)")
    axes.set_title(workload.name)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def _ratio_chart(plt: Any, workloads: list[WorkloadResult], path: Path) -> bool:
    rows = []
    for workload in workloads:
        kinds = {r.kind: r.value for r in workload.ratios if r.kind is not None}
        if "floor" in kinds:
            rows.append((workload.name, kinds["floor"], kinds.get("best peer")))
    if not rows:
        return False
    figure, axes = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    positions = list(range(len(rows)))
    axes.barh([p - 0.2 for p in positions], [r[1] for r in rows], height=0.4,
              color="#4c72b0", label="datatier / floor (raw asyncpg, prepared)")  # fmt: skip
    axes.barh([p + 0.2 for p in positions], [r[2] or 0 for r in rows], height=0.4,
              color="#dd8452", label="datatier / best peer")  # fmt: skip
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_yticks(positions, [r[0] for r in rows])
    axes.invert_yaxis()
    axes.set_xlabel("datatier's time per operation over the other's (below 1: datatier faster)")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def _colour(subject: str) -> str:
    return {"datatier": "#4c72b0", "asyncpg": "#55a868", "pgbench": "#8c8c8c"}.get(
        subject, "#dd8452"
    )
