"""The A/B analysis's inputs read from the warehouse, and its results written back.

The inputs are the experiments (staging.stg_ab_experiments) and the per-market outcomes (dbt
model int_ab_market_outcomes); each experiment's rows of marts.ab_test_results (created by
migration 0004) are replaced in one transaction: a reader sees an experiment's old rows or its
new rows, never a mix or none.
"""

from __future__ import annotations

import io

import pandas as pd
from psycopg2.extras import execute_values

from precog.stats import ab_testing
from precog.warehouse import database

# The relations it reads and writes, (schema, name): the results' also name the asset
# (orchestration/defs/ab_testing/assets.py), the inputs' are the dbt models it depends on.
EXPERIMENTS = ("staging", "stg_ab_experiments")
OUTCOMES = ("intermediate", "int_ab_market_outcomes")
RESULTS = ("marts", "ab_test_results")

EXPERIMENTS_SQL = f"""
    select experiment_name, traffic_split, alpha, primary_metric
    from {".".join(EXPERIMENTS)}
    order by experiment_name
"""
# In a fixed order: the seeded bootstrap and permutation draw by row, so the results are
# reproducible only if the rows come in the same order every time.
OUTCOMES_ORDER = "order by experiment_name, market_id, variant"
OUTCOMES_COLUMNS = (
    "experiment_name",
    "market_id",
    "variant",
    "stratification_key",
    "league",
    "market_type",
    "closed_trades",
    "winning_trades",
    "realized_pnl",
    "data_through",
)
_TEXT_COLUMNS = ("experiment_name", "variant", "stratification_key", "league", "market_type")
_INTEGER_COLUMNS = ("market_id", "closed_trades", "winning_trades")
# How COPY writes a null (a text that is literally this reads as null too).
_COPY_NULL = "\\N"


def outcomes_sql(relation: str = ".".join(OUTCOMES)) -> str:
    """The query of the per-market outcomes, from `relation` (the dbt model by default)."""
    return f"select {', '.join(OUTCOMES_COLUMNS)} from {relation} {OUTCOMES_ORDER}"


def read_outcomes(cursor, relation: str = ".".join(OUTCOMES)) -> pd.DataFrame:
    """The per-market outcomes as a frame, through COPY: at 1.3M markets, twice as fast as
    fetching a Python object per value. Text nulls are None (and so is a text that is
    literally \\N, COPY's null), P&L the float nearest the numeric (as float(Decimal)),
    data_through a UTC timestamp."""
    buffer = io.BytesIO()
    cursor.copy_expert(
        f"copy ({outcomes_sql(relation)}) to stdout with (format csv, header, null '{_COPY_NULL}')",
        buffer,
    )
    buffer.seek(0)
    outcomes = pd.read_csv(
        buffer,
        na_values=[_COPY_NULL],
        keep_default_na=False,
        dtype={**dict.fromkeys(_TEXT_COLUMNS, str), **dict.fromkeys(_INTEGER_COLUMNS, "int64")},
    )
    for column in _TEXT_COLUMNS:
        outcomes[column] = outcomes[column].astype(object).where(outcomes[column].notna(), None)
    outcomes["realized_pnl"] = outcomes["realized_pnl"].astype(float)
    outcomes["data_through"] = pd.to_datetime(outcomes["data_through"], utc=True, format="ISO8601")
    return outcomes


def read_inputs(
    cursor, outcomes_relation: str = ".".join(OUTCOMES)
) -> tuple[list[ab_testing.Experiment], pd.DataFrame]:
    """The experiments and the per-market outcomes, from the warehouse (the outcomes from
    `outcomes_relation`, the dbt model by default)."""
    outcomes = read_outcomes(cursor, outcomes_relation)
    through = (
        outcomes.groupby("experiment_name")["data_through"].max().to_dict() if len(outcomes) else {}
    )
    cursor.execute(EXPERIMENTS_SQL)
    experiments = [
        ab_testing.Experiment(
            name=name,
            traffic_split=float(split),
            alpha=float(alpha),
            primary_metric=primary_metric,
            data_through=None if pd.isna(through.get(name)) else through[name].to_pydatetime(),
        )
        for name, split, alpha, primary_metric in cursor.fetchall()
    ]
    return experiments, outcomes


def _sql_value(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def write_results(target: database.Warehouse, results: pd.DataFrame, experiments) -> None:
    """Replace each experiment's rows, one transaction per experiment; drop the rows of
    experiments that no longer exist."""
    columns = list(ab_testing.RESULT_COLUMNS)
    results_table = ".".join(RESULTS)
    insert = f"insert into {results_table} ({', '.join(columns)}) values %s"
    for name, rows in results.groupby("experiment_name", sort=True):
        values = [
            tuple(_sql_value(v) for v in row) for row in rows[columns].itertuples(index=False)
        ]
        with database.transaction(target) as cursor:
            cursor.execute(f"delete from {results_table} where experiment_name = %s", (name,))
            execute_values(cursor, insert, values)
    with database.transaction(target) as cursor:
        cursor.execute(
            f"delete from {results_table} where experiment_name <> all(%s)",
            ([e.name for e in experiments],),
        )
