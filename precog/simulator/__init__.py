"""A deterministic simulator of the trading system's replicated tables (schema `raw`).

The world: US sports leagues (NFL, NBA, MLB, NHL, NCAAF, NCAAB) with their real seasons,
weekdays and start times. Each game gets a moneyline, a few spread and a few total markets
(SCD Type 2 price versions while open, then `closed`, then `settled`), three model versions
predict every market (one well calibrated, one over-confident, one noisy), edges are versioned
per prediction, strategies enter where their model's edge beats their threshold, scale in,
take profit or hold to settlement, and two A/B experiments (one with a planted difference, one
A/A) assign markets stratified by league and market type. A few percent of the trades replicate
late (1 hour to 5 days after their execution).

Everything derives from (seed, game day): day `d` (an ordinal of the US/Eastern schedule date)
draws from `numpy.random.default_rng([seed, d])` and its ids are functions of `d`, so
regenerating a day gives the same rows with the same ids. A load of a time window `[a, b)`
regenerates the days whose lifecycles reach into it and emits what the replication would
deliver in it: SCD versions starting in the window (current, with row_end_ts null, when their
successor starts later), UPDATEs closing versions loaded earlier, predictions and assignments
stamped in the window, and the trades *available* in it (execution time + replication delay).
A fresh history is the window `[history_start, end)`; an append is `[T, T + H)`. So a history
ending at E followed by an append of H hours holds the same rows (loaded_at aside) as one load
of `[history_start, E + H)` of the same world.

The history's span and the world's games per day follow from the requested trade count (about
60 days at 20k trades, 3 years at 10M); `precog_meta.simulation` keeps seed, games per day,
history start and `simulated_through` so that appends continue the same world. Ids: market_id =
day * 100000 + i, position_id = market_id * 100 + strategy index, trade_id = position_id * 10 +
its rank, surrogate keys = business id * 10 + row_version (edges: prediction_id). Rows added by
`add_bad_rows` take ids from BAD_ID_BASE up, far above any simulated id.

Loading is COPY in PostgreSQL's binary format, encoded with numpy (integer cents and 1e-4
units turned into `numeric` digits directly, so money is exact and never goes through floats),
generated in a producer thread while the main thread copies.
"""

from precog.simulator.bad_rows import BAD_ID_BASE, BAD_KINDS, add_bad_rows
from precog.simulator.loading import (
    SimulationError,
    SimulationReport,
    append_hours,
    plan_world,
    populated_tables,
    raw_is_empty,
    simulate_history,
)

__all__ = [
    "BAD_ID_BASE",
    "BAD_KINDS",
    "SimulationError",
    "SimulationReport",
    "add_bad_rows",
    "append_hours",
    "plan_world",
    "populated_tables",
    "raw_is_empty",
    "simulate_history",
]
