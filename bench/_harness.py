"""What every benchmark shares: repeats, medians, spread, peak RSS, the table and the JSON line.

Each benchmark measures its anchor in the same run, so ratios compare like with like on
whatever machine runs it.
"""

from __future__ import annotations

import json
import resource
import statistics
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "spread_pct": 100 * (max(samples) - min(samples)) / statistics.median(samples),
    }


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return ordered[index]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, rows: list[tuple[str, str, str]], figures: dict[str, Any]) -> None:
    """Print a table, write bench/results/<name>.json, and print the JSON as the last line."""
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    figures = {"benchmark": name, **figures, "peak_rss_mib": round(peak_rss_mib(), 1)}
    RESULTS.mkdir(exist_ok=True)
    line = json.dumps(figures, sort_keys=True)
    (RESULTS / f"{name}.json").write_text(line + "\n")
    print(line)
