"""Bulk loading into the warehouse with COPY: the one way rows get into `raw`."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd


def copy_frame(
    cursor, table: str, frame: pd.DataFrame, columns: Sequence[str] | None = None
) -> int:
    """COPY a DataFrame into `table` (CSV, NULL as empty); returns the rows loaded.

    Money columns should hold Decimal or exact strings: CSV text reaches `numeric` unchanged.
    """
    columns = list(columns or frame.columns)
    if frame.empty:
        return 0
    buffer = io.StringIO()
    frame.to_csv(buffer, columns=columns, header=False, index=False, na_rep="")
    buffer.seek(0)
    column_list = ", ".join(columns)
    cursor.copy_expert(f"copy {table} ({column_list}) from stdin with (format csv)", buffer)
    return len(frame)
