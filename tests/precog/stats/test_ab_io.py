"""The A/B results written back (precog/stats/ab_io.py): each experiment replaced whole."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from precog.stats import ab_testing as ab
from precog.stats.ab_io import write_results
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
