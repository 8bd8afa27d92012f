"""The A/B results written back (precog/stats/ab_io.py): each experiment replaced whole."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from precog.stats import ab_testing as ab
from precog.stats.ab_io import outcomes_sql, read_outcomes, write_results
from precog.warehouse import database
from tests.helpers import markets_frame


def test_results_are_replaced_whole_per_experiment(warehouse, cursor):
    rng = np.random.default_rng(1)
    outcomes = pd.concat(
        [
            markets_frame(["control", "treatment"] * 50, pnl=rng.normal(0, 1, 100)).assign(
                experiment_name=name
            )
            for name in ("a", "b")
        ]
    )
    experiments = [ab.Experiment("a"), ab.Experiment("b")]
    results = ab.analyze(outcomes, experiments, n_permutations=20, n_bootstrap=20)
    write_results(warehouse, results, experiments)

    seen: set[tuple[int, int]] = set()
    stop = threading.Event()

    def read():
        connection = database.connect(warehouse)
        connection.autocommit = True
        with connection.cursor() as reader:
            while not stop.is_set():
                reader.execute(
                    "select count(*) filter (where experiment_name = 'a'),"
                    " count(*) filter (where experiment_name = 'b') from marts.ab_test_results"
                )
                seen.add(reader.fetchone())
        connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    for _ in range(30):
        write_results(warehouse, results, experiments)
    stop.set()
    thread.join()
    assert seen == {(10, 10)}  # never a half-written or missing experiment

    write_results(warehouse, results[results["experiment_name"] == "b"], experiments[1:])
    cursor.execute("select distinct experiment_name from marts.ab_test_results")
    assert cursor.fetchall() == [("b",)]


def test_outcomes_read_through_copy_are_the_stored_values(cursor):
    """COPY's text comes back as the values themselves: a null stays apart from an empty text,
    P&L is the float nearest the numeric (also where a quick parse of its digits is one off),
    the order is the query's."""
    cursor.execute(
        """
        create temp table outcomes_fixture as
        select * from (values
            ('e', 2, 'treatment', null, '', 'total', 3, 1,
                1.000000000000000111022302462515654042363166809082031251::numeric,
                '2026-01-02 03:04:05.678+00'::timestamptz),
            ('e', 1, 'control', 'NBA|total', null, null, 0, 0, 2.675, null),
            ('d', 7, 'control', 'a,"b"|c', 'NFL', 'spread', 12, 7,
                9007199254740993, '2026-01-01 00:00:00+05')
        ) as fixture (
            experiment_name, market_id, variant, stratification_key, league, market_type,
            closed_trades, winning_trades, realized_pnl, data_through
        )
        union all
        select 'f', n, 'control', null, null, null, 1, 0,
            round(n * -7.0000000000000008881784197001 / 3, 25), null
        from generate_series(1, 5000) as n
        """
    )
    outcomes = read_outcomes(cursor, "outcomes_fixture")
    cursor.execute(outcomes_sql("outcomes_fixture"))
    stored = cursor.fetchall()

    assert list(outcomes["market_id"][:3]) == [7, 1, 2]
    for row, value in zip(outcomes.itertuples(index=False), stored, strict=True):
        *plain, pnl, through = value
        assert list(row)[:8] == plain
        assert row.realized_pnl == float(pnl)
        assert (pd.isna(row.data_through) and through is None) or row.data_through == through
    assert outcomes["stratification_key"][2] is None
    assert outcomes["league"][1] is None and outcomes["league"][2] == ""
