"""PostgreSQL's binary COPY format, encoded with numpy: integer cents and 1e-4 units become
`numeric` digits directly, so money never goes through floats.
"""

from __future__ import annotations

import io

import numpy as np

from precog.simulator.world import EXPERIMENTS, LEAGUE_NAMES, MARKET_TYPES, NONE, STRATA, VARIANTS

# --- binary COPY -------------------------------------------------------------------------------

PG_EPOCH = 946_684_800  # 2000-01-01 in unix seconds
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
# (column, kind, argument): kinds int8, int4, bool, ts, num (argument: scale), text, cat
# (argument: the labels), json. SCD tables take row_current_ind and row_end_ts from `end`.
_SCD_TAIL = [
    ("row_current_ind", "current", None),
    ("row_start_ts", "ts", "start"),
    ("row_end_ts", "end", None),
    ("row_version", "int4", None),
]
LAYOUTS = {
    "markets": [
        ("market_key", "int8", None),
        ("market_id", "int8", None),
        ("ticker", "text", None),
        ("league", "cat", LEAGUE_NAMES),
        ("market_type", "cat", MARKET_TYPES),
        ("event_start_ts", "ts", None),
        ("close_ts", "ts", None),
        ("yes_bid", "num", 2),
        ("yes_ask", "num", 2),
        ("no_bid", "num", 2),
        ("no_ask", "num", 2),
        ("volume", "int8", None),
        ("status", "cat", ["open", "closed", "settled"]),
        ("settlement_value", "num", 0),
        *_SCD_TAIL,
    ],
    "positions": [
        ("position_key", "int8", None),
        ("position_id", "int8", None),
        ("market_id", "int8", None),
        ("strategy_id", "int8", None),
        ("model_id", "int8", None),
        ("side", "cat", ["yes", "no"]),
        ("quantity", "num", 0),
        ("entry_price", "num", 4),
        ("current_price", "num", 2),
        ("unrealized_pnl", "num", 4),
        ("status", "cat", ["open", "monitoring", "exited", "settled"]),
        *_SCD_TAIL,
    ],
    "trades": [
        ("trade_id", "int8", None),
        ("position_id", "int8", None),
        ("action", "cat", ["entry", "exit", "settlement"]),
        ("quantity", "num", 0),
        ("price", "num", 2),
        ("fees", "num", 2),
        ("execution_timestamp", "ts", None),
    ],
    "edges": [
        ("edge_key", "int8", None),
        ("market_id", "int8", None),
        ("model_id", "int8", None),
        ("predicted_prob", "num", 4),
        ("market_price", "num", 3),
        ("edge", "num", 4),
        ("confidence", "num", 4),
        *_SCD_TAIL,
    ],
    "model_predictions": [
        ("prediction_id", "int8", None),
        ("model_id", "int8", None),
        ("market_id", "int8", None),
        ("predicted_prob", "num", 4),
        ("features", "json", None),
        ("prediction_timestamp", "ts", None),
    ],
    "ab_test_assignments": [
        ("assignment_id", "int8", None),
        ("experiment_name", "cat", [e[0] for e in EXPERIMENTS]),
        ("market_id", "int8", None),
        ("variant", "cat", VARIANTS),
        ("stratification_key", "cat", STRATA),
        ("assigned_at", "ts", None),
    ],
}


# A column's part of the row struct: its numpy fields, the values to fill them with, and the
# fields whose bytes are not all used by every row: (field, width, bytes used per row).
Fields = list[tuple[str, str]]
Fills = list[tuple[str, "np.ndarray | int"]]
Variable = list[tuple[str, int, np.ndarray]]


def encode_binary(table: str, columns: dict[str, np.ndarray]) -> bytes:
    """The rows of `columns` as the body of a binary COPY into raw.<table> (no header): one
    fixed-width numpy struct per row, then the bytes a row leaves unused cut out."""
    layout = LAYOUTS[table]
    n = len(next(iter(columns.values())))
    fields: Fields = [("count", ">i2")]
    fills: Fills = [("count", len(layout))]
    variable: Variable = []
    for i, (name, kind, arg) in enumerate(layout):
        length, data = f"l{i}", f"v{i}"
        if kind in ("int8", "ts", "end"):
            encoded = _int8(length, data, name, kind, arg, columns)
        elif kind == "int4":
            encoded = [(length, ">i4"), (data, ">i4")], [(length, 4), (data, columns[name])], []
        elif kind == "current":
            current = (columns["end"] == NONE).astype(np.uint8)
            encoded = [(length, ">i4"), (data, "u1")], [(length, 1), (data, current)], []
        elif kind == "num":
            encoded = _numeric(length, data, name, arg, columns)
        elif kind in ("text", "cat", "json"):
            encoded = _bytes(length, data, name, kind, arg, columns)
        else:  # pragma: no cover - layouts are fixed above
            raise ValueError(kind)
        fields += encoded[0]
        fills += encoded[1]
        variable += encoded[2]
    return _pack(n, fields, fills, variable)


def _int8(length, data, name, kind, arg, columns) -> tuple[Fields, Fills, Variable]:
    """A bigint, or a timestamp as microseconds since 2000 (`end`: NULL where NONE)."""
    source = columns[arg] if kind == "ts" and arg else columns.get(name)
    if kind == "end":
        source = columns["end"]
    values = np.asarray(source, np.int64)
    null = values == NONE if kind == "end" else None
    micros = (values - PG_EPOCH) * 1_000_000 if kind != "int8" else values
    fields: Fields = [(length, ">i4"), (data, ">i8")]
    fills: Fills = [(data, micros)]
    if null is not None and null.any():
        fills.append((length, np.where(null, -1, 8)))
        return fields, fills, [(data, 8, np.where(null, 0, 8))]
    fills.append((length, 8))
    return fields, fills, []


def _numeric(length, data, name, scale, columns) -> tuple[Fields, Fills, Variable]:
    """Integers in units of 10**-scale as PostgreSQL numeric: base-10000 digits
    (settlement_value: NULL where negative)."""
    values = np.asarray(columns[name], np.int64)
    null = values < 0 if name == "settlement_value" else None
    magnitude = np.abs(values)
    integer, fraction = magnitude // 10**scale, magnitude % 10**scale
    n_int = max(1, -(-len(str(int(integer.max(initial=0)))) // 4))
    digits = n_int + (1 if scale else 0)
    width = 8 + 2 * digits
    fields: Fields = [
        (length, ">i4"),
        (f"{data}n", ">i2"),
        (f"{data}w", ">i2"),
        (f"{data}s", ">i2"),
        (f"{data}d", ">i2"),
    ]
    fields += [(f"{data}_{k}", ">i2") for k in range(digits)]
    fills: Fills = [
        (f"{data}n", digits),
        (f"{data}w", n_int - 1),
        (f"{data}s", np.where(values < 0, 0x4000, 0)),
        (f"{data}d", scale),
    ]
    for k in range(n_int):
        fills.append((f"{data}_{k}", (integer // 10_000 ** (n_int - 1 - k)) % 10_000))
    if scale:
        fills.append((f"{data}_{n_int}", fraction * 10 ** (4 - scale)))
    if null is not None and null.any():
        fills.append((length, np.where(null, -1, width)))
        return fields, fills, [(f"{data}n", width, np.where(null, 0, width))]
    fills.append((length, width))
    return fields, fills, []


def _bytes(length, data, name, kind, arg, columns) -> tuple[Fields, Fills, Variable]:
    """Text: bytes as they are, a category's label (`arg`, by index), or jsonb (version 1)."""
    if kind == "cat":
        labels = np.array([label.encode() for label in arg], dtype="S")
        values = labels[columns[name]]
        lengths = np.array([len(label) for label in arg])[columns[name]]
    else:
        values = columns[name]
        if kind == "json":
            values = np.char.add(b"\x01", values)  # jsonb binary: version 1, then text
        lengths = np.strings.str_len(values)
    width = values.dtype.itemsize
    variable: Variable = [(data, width, lengths)] if (lengths != width).any() else []
    return [(length, ">i4"), (data, f"S{width}")], [(length, lengths), (data, values)], variable


def _pack(n: int, fields: Fields, fills: Fills, variable: Variable) -> bytes:
    """The rows as bytes: the struct filled, then each row's unused bytes left out."""
    dtype = np.dtype(fields)
    rows = np.empty(n, dtype)
    for name, value in fills:
        rows[name] = value
    if not variable:
        return rows.tobytes()
    offsets = {name: dtype.fields[name][1] for name in dtype.names}
    mask = np.ones(n * dtype.itemsize, np.uint8).view(
        np.dtype(
            {
                "names": [v[0] for v in variable],
                "formats": [f"V{v[1]}" for v in variable],
                "offsets": [offsets[v[0]] for v in variable],
                "itemsize": dtype.itemsize,
            }
        )
    )
    for name, width, used in variable:
        keep = (np.arange(width)[None, :] < np.asarray(used)[:, None]).astype(np.uint8)
        mask[name] = keep.view(f"V{width}").reshape(n)
    return rows.view(np.uint8)[mask.view(np.uint8).view(bool)].tobytes()


def copy_binary(cursor, table: str, body: bytes, freeze: bool) -> None:
    columns = ", ".join(column for column, _, _ in LAYOUTS[table])
    options = "format binary, freeze" if freeze else "format binary"
    stream = io.BytesIO(COPY_HEADER + body + COPY_TRAILER)
    cursor.copy_expert(
        f"copy raw.{table} ({columns}) from stdin with ({options})", stream, size=1 << 20
    )
