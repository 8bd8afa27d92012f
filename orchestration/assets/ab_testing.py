"""The A/B analysis as a Dagster asset: marts.ab_test_results (DESIGN.md, "A/B testing").

Reads the per-market outcomes (dbt model int_ab_market_outcomes) and the experiments
(stg_ab_experiments), runs the statistics of orchestration/ab_testing.py and replaces each
experiment's rows of marts.ab_test_results (created by migration 0004) in one transaction:
a reader sees an experiment's old rows or its new rows, never a mix or none. The dbt mart
mv_ab_test_results reads the table as source `marts.ab_test_results`, which carries this
asset's key, so Dagster runs it after this asset.
"""

import datetime as dt

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model
from psycopg2.extras import execute_values

from orchestration import ab_testing, database
from orchestration.assets.dbt import dbt_daily, dbt_hourly
from orchestration.resources import WarehouseResource

EXPERIMENTS_SQL = """
    select experiment_name, traffic_split, alpha, primary_metric
    from staging.stg_ab_experiments
    order by experiment_name
"""
OUTCOMES_SQL = """
    select experiment_name, market_id, variant, stratification_key, league, market_type,
        closed_trades, winning_trades, realized_pnl, data_through
    from intermediate.int_ab_market_outcomes
"""


def read_inputs(cursor) -> tuple[list[ab_testing.Experiment], pd.DataFrame]:
    """The experiments and the per-market outcomes, from the warehouse."""
    cursor.execute(OUTCOMES_SQL)
    outcomes = pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])
    outcomes["realized_pnl"] = outcomes["realized_pnl"].astype(float)
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
            data_through=None if pd.isna(through.get(name)) else through.get(name),
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
    insert = f"insert into marts.ab_test_results ({', '.join(columns)}) values %s"
    for name, rows in results.groupby("experiment_name", sort=True):
        values = [
            tuple(_sql_value(v) for v in row) for row in rows[columns].itertuples(index=False)
        ]
        with database.transaction(target) as cursor:
            cursor.execute("delete from marts.ab_test_results where experiment_name = %s", (name,))
            execute_values(cursor, insert, values)
    with database.transaction(target) as cursor:
        cursor.execute(
            "delete from marts.ab_test_results where experiment_name <> all(%s)",
            ([e.name for e in experiments],),
        )


@dg.asset(
    key=["marts", "ab_test_results"],
    group_name="marts",
    deps=[
        get_asset_key_for_model([dbt_daily], "int_ab_market_outcomes"),
        get_asset_key_for_model([dbt_hourly], "stg_ab_experiments"),
    ],
    kinds={"python", "scipy", "postgres"},
    description=(
        "A/B tests of strategy versions, the market as unit of analysis: SRM chi-square, "
        "delta-method z-tests of win rate and P&L per closed trade, Welch t of P&L per market "
        "(Holm-adjusted family), stratified permutation, BCa bootstrap, post-stratified "
        "estimate, Mann-Whitney diagnostic, minimum detectable effects "
        "(orchestration/ab_testing.py)."
    ),
)
def ab_test_results(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    target = database.warehouse()
    with database.transaction(target) as cursor:
        experiments, outcomes = read_inputs(cursor)
    computed_at = dt.datetime.now(dt.UTC)
    results = ab_testing.analyze(outcomes, experiments, computed_at=computed_at)
    write_results(target, results, experiments)

    verdicts = {e.name: ab_testing.verdict(results, e) for e in experiments}
    for line in verdicts.values():
        context.log.info(line)
    return dg.MaterializeResult(
        metadata={
            "verdicts": dg.MetadataValue.md(
                "\n".join(f"- {line}" for line in verdicts.values()) or "no experiments"
            ),
            "results": dg.MetadataValue.md(ab_testing.markdown_table(results)),
            "experiments": len(experiments),
            "markets": len(outcomes),
            "dagster/row_count": len(results),
            **{f"verdict/{name}": dg.MetadataValue.text(line) for name, line in verdicts.items()},
        }
    )
