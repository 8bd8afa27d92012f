"""Replication: what the trading system's replication delivers in a landing window [a, b)
of a day's rows (versions starting, versions closed, trades available).
"""

from __future__ import annotations

import numpy as np

from precog.simulator.world import NONE, SCD_TABLES

# --- cutting a day to a window ----------------------------------------------------------------


def cut_to_window(rows: dict[str, dict[str, np.ndarray]], a: int, b: int):
    """The rows the replication delivers in [a, b): inserts per table, and SCD updates."""
    inserts: dict[str, dict[str, np.ndarray]] = {}
    updates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for table, columns in rows.items():
        if table in SCD_TABLES:
            start, end = columns["start"], columns["end"]
            take = (start >= a) & (start < b)
            fix = (start < a) & (end >= a) & (end < b)
            if fix.any():
                updates[table] = (columns[SCD_TABLES[table]][fix], end[fix])
            cut = {name: values[take] for name, values in columns.items()}
            cut["end"] = np.where(cut["end"] < b, cut["end"], NONE)
        else:
            stamp = {
                "trades": "available",
                "model_predictions": "prediction_timestamp",
                "ab_test_assignments": "assigned_at",
            }[table]
            take = (columns[stamp] >= a) & (columns[stamp] < b)
            cut = {name: values[take] for name, values in columns.items()}
        if len(next(iter(cut.values()))):
            inserts[table] = cut
    return inserts, updates
