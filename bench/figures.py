"""The headline figures of one benchmark run, in the one shape `bench/run_all.py` tabulates.

Each benchmark script calls `record(name, figures)` at the end of its run; that writes
`bench/out/<name>.figures.json`. A figure is one measured value, optionally beside the baseline it
was measured against in the same run (so that run_all can show the ratio, which is steadier than
the absolute value on a shared machine) and the target it is held to.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def figure(
    measure: str,
    value,
    unit: str = "",
    baseline: str | None = None,
    baseline_value=None,
    target: str | None = None,
    note: str | None = None,
) -> dict:
    return {
        "measure": measure,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "target": target,
        "note": note,
    }


def record(name: str, figures: list[dict]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.figures.json"
    path.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    return path
