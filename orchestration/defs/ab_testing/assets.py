"""The A/B analysis as a Dagster asset: marts.ab_test_results (docs/DESIGN.md, "A/B testing").

Reads the per-market outcomes and the experiments, runs the statistics of
precog/stats/ab_testing.py and replaces each experiment's rows (precog/stats/ab_io.py). The dbt
mart mv_ab_test_results reads the table as source `marts.ab_test_results`, which carries this
asset's key, so Dagster runs it after this asset.
"""

import datetime as dt
from functools import cache

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import FRESHNESS, dbt_models
from orchestration.defs.resources import WarehouseResource
from precog.stats import ab_io, ab_testing
from precog.warehouse import database


def materialize(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with database.transaction(warehouse.target) as cursor:
        experiments, outcomes = ab_io.read_inputs(cursor)
    computed_at = dt.datetime.now(dt.UTC)
    results = ab_testing.analyze(outcomes, experiments, computed_at=computed_at)
    ab_io.write_results(warehouse.target, results, experiments)

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


@cache
def ab_test_results() -> dg.AssetsDefinition:
    """The asset, built once the dbt assets it depends on are."""

    @dg.asset(
        key=list(ab_io.RESULTS),
        group_name="marts",
        deps=[
            get_asset_key_for_model([dbt_models("daily")], ab_io.OUTCOMES[1]),
            get_asset_key_for_model([dbt_models("hourly")], ab_io.EXPERIMENTS[1]),
        ],
        kinds={"python", "scipy", "postgres"},
        freshness_policy=FRESHNESS["daily"],
        description=(
            "A/B tests of strategy versions, the market as unit of analysis: SRM chi-square, "
            "delta-method z-tests of win rate and P&L per closed trade, Welch t of P&L per market "
            "(Holm-adjusted family), stratified permutation, BCa bootstrap, post-stratified "
            "estimate, Mann-Whitney diagnostic, minimum detectable effects "
            "(precog/stats/ab_testing.py)."
        ),
    )
    def ab_test_results(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        return materialize(context, warehouse)

    return dg.with_source_code_references([ab_test_results])[0]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[ab_test_results()])
