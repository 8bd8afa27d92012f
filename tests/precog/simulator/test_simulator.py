"""The simulator against a real PostgreSQL: determinism, continuation, the source contract,
the designed model calibration and A/B effect, refusals, and the bad rows."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from precog import simulator
from precog.simulator import loading
from precog.simulator.game_days import generate_day
from precog.warehouse import database
from precog.warehouse.database import RAW_TABLES

END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
APPEND_HOURS = 72
DIGESTED = {
    "markets": "market_key",
    "positions": "position_key",
    "trades": "trade_id",
    "edges": "edge_key",
    "model_predictions": "prediction_id",
    "ab_test_assignments": "assignment_id",
    "strategies": "strategy_id",
    "probability_models": "model_id",
    "ab_experiments": "experiment_name",
}


def digest(cursor) -> dict[str, str]:
    """md5 of every raw table's rows in key order, loaded_at left out."""
    out = {}
    for table, key in DIGESTED.items():
        cursor.execute(
            f"select md5(string_agg((to_jsonb(t) - 'loaded_at')::text, '|' order by {key}))"
            f" from raw.{table} as t"
        )
        out[table] = cursor.fetchone()[0]
    return out


def frame(cursor, sql: str, params=None) -> pd.DataFrame:
    cursor.execute(sql, params)
    return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


# --- a shared world: a history, then an append --------------------------------------------------


@pytest.fixture(scope="module")
def world() -> Iterator[tuple]:
    """An 80k-trade history ending at END, then APPEND_HOURS more; one database per module."""
    name = f"precog_test_sim_{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PGDATABASE", name)
        target = database.warehouse()
        database.migrate(target)
        history = simulator.simulate_history(80_000, 11, END, target=target)
        append = simulator.append_hours(APPEND_HOURS, target=target)
        connection = database.connect(target)
        connection.autocommit = True
        try:
            with connection.cursor() as cur:
                yield history, append, cur
        finally:
            connection.close()
            database.drop_database(target, name)


# --- determinism and continuation ---------------------------------------------------------------


@pytest.mark.parametrize(("trades", "tolerance"), [(200, 0.5), (2_000, 0.1), (20_000, 0.1)])
def test_a_small_history_holds_about_the_trades_asked(trades, tolerance):
    # A game gives about 90 trades: 200 asked is two or three games, so 50% there. Before
    # the count was planned, 2,000 asked gave up to 2,721 (and 200, 421).
    end = int(END.timestamp())
    for seed in range(5):
        held = loading.trades_in_history(loading.plan_world(trades, seed, END), end)
        assert abs(held - trades) <= tolerance * trades, (seed, held)


def test_same_seed_and_end_give_identical_rows_and_another_seed_differs(warehouse, cursor):
    first = simulator.simulate_history(20_000, 3, END, target=warehouse)
    assert 15_000 <= first.trades <= 25_000
    assert sum(first.rows.values()) <= 3.3 * first.trades  # raw stays ~3x the trades
    one = digest(cursor)
    simulator.simulate_history(20_000, 3, END, target=warehouse, replace=True)
    assert digest(cursor) == one
    simulator.simulate_history(20_000, 4, END, target=warehouse, replace=True)
    other = digest(cursor)
    assert other["trades"] != one["trades"] and other["markets"] != one["markets"]
    assert other["strategies"] == one["strategies"]  # the desk's set-up is not random


def test_a_history_and_an_append_equal_the_longer_history(warehouse, cursor):
    simulator.simulate_history(20_000, 5, END, target=warehouse)
    report = simulator.append_hours(30, target=warehouse)
    assert report.window_start == END and report.window_end == END + dt.timedelta(hours=30)
    appended = digest(cursor)
    cursor.execute("truncate precog_meta.simulation")
    cursor.execute("truncate " + ", ".join(f"raw.{t}" for t in RAW_TABLES))
    # The world is planned from the trade count and the end: keep both, move only the end of
    # the loaded window. Rebuild with the same world through the window loader directly.
    world = simulator.plan_world(20_000, 5, END)
    connection = database.connect(warehouse)
    with connection, connection.cursor() as cur:
        loading._insert_static(cur, world)
        end = int((END + dt.timedelta(hours=30)).timestamp())
        loading._load_window(cur, world, world.history_start, end, False)
    connection.close()
    assert digest(cursor) == appended


# --- the source contract -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key", "surrogate"),
    [
        ("markets", "market_id", "market_key"),
        ("positions", "position_id", "position_key"),
        ("edges", "market_id, model_id", "edge_key"),
    ],
)
def test_scd_versions_have_one_current_row_and_are_contiguous(world, table, key, surrogate):
    *_, cursor = world
    cursor.execute(
        f"select count(*) from (select {key} from raw.{table} group by {key}"
        " having count(*) filter (where row_current_ind) <> 1) as bad"
    )
    assert cursor.fetchone()[0] == 0
    cursor.execute(
        f"""select count(*) from (
            select row_current_ind, row_end_ts, row_version,
                lead(row_start_ts) over w as next_start,
                row_number() over w as expected_version,
                count(*) over (partition by {key}) as versions
            from raw.{table} window w as (partition by {key} order by row_start_ts, {surrogate})
        ) as v where row_version <> expected_version
            or (row_version < versions and (row_end_ts is distinct from next_start
                                            or row_current_ind))
            or (row_version = versions and (row_end_ts is not null or not row_current_ind))"""
    )
    assert cursor.fetchone()[0] == 0


def test_trades_follow_the_position_lifecycle(world):
    *_, cursor = world
    trades = frame(
        cursor,
        "select trade_id, position_id, action, quantity::int, execution_timestamp from raw.trades"
        " order by position_id, execution_timestamp, trade_id",
    )
    assert trades.trade_id.is_unique
    assert set(trades.action) == {"entry", "exit", "settlement"}
    closing = trades.action != "entry"
    first_closing = trades[closing].groupby("position_id").execution_timestamp.min()
    last_entry = trades[~closing].groupby("position_id").execution_timestamp.max()
    both = pd.concat([first_closing.rename("c"), last_entry.rename("e")], axis=1).dropna()
    assert len(both) > 1_000 and (both.e < both.c).all()
    # What each position entered in all, from its versions (the trading system's view).
    positions = frame(
        cursor,
        "select position_id, max(quantity)::int as entered,"
        " bool_or(row_current_ind and status in ('exited', 'settled')) as done"
        " from raw.positions group by 1",
    ).set_index("position_id")
    signed = np.where(closing, -trades.quantity, trades.quantity)
    trades["open_after"] = pd.Series(signed).groupby(trades.position_id.values).cumsum().values
    entries = trades[~closing].groupby("position_id").quantity.sum()
    closed = trades[closing].groupby("position_id").quantity.sum()
    per_position = positions.join(entries.rename("entries")).join(closed.rename("closed"))
    per_position = per_position.fillna(0)
    assert (per_position.closed <= per_position.entered).all()
    # Positions whose trades have all landed: never closing more than is open, and closed out.
    whole = per_position[per_position.entries == per_position.entered]
    assert len(whole) > 0.9 * len(per_position)
    in_whole = trades.position_id.isin(whole.index)
    assert (trades.open_after[in_whole] >= 0).all()
    finished = whole[whole.done]  # a few still wait for a late closing trade
    assert (finished.closed == finished.entered).mean() > 0.97 and len(finished) > 1_000


def test_every_generated_position_closes_exactly_what_it_entered():
    """Before any replication delay: per position, entries then closings, all closed out."""
    world = simulator.plan_world(1_000_000, 9, END)
    for day in range(world.first_day + 40, world.first_day + 50):
        trades = pd.DataFrame(generate_day(world, day)["trades"])
        trades = trades.sort_values(["position_id", "execution_timestamp", "trade_id"])
        assert trades.trade_id.is_unique and (trades.available >= trades.execution_timestamp).all()
        # trade ids follow execution order within a position
        assert (trades.groupby("position_id").trade_id.diff().dropna() > 0).all()
        signed = np.where(trades.action == 0, trades.quantity, -trades.quantity)
        open_after = pd.Series(signed).groupby(trades.position_id.values).cumsum()
        assert (open_after >= 0).all()
        assert (open_after.groupby(trades.position_id.values).last() == 0).all()
        closing = (trades.action != 0).astype(int)
        # once a position has closed anything, no entry follows
        seen_closing = closing.groupby(trades.position_id.values).cummax()
        assert not ((seen_closing == 1) & (trades.action == 0)).any()
        last = trades.groupby("position_id").action.last()
        assert last.isin([1, 2]).all()  # a final exit or a settlement


def test_money_is_exact(world):
    *_, cursor = world
    cursor.execute(
        """select
            count(*) filter (where price < 0 or price > 1 or price * 100 <> trunc(price * 100)),
            count(*) filter (where quantity <= 0 or quantity <> trunc(quantity)),
            count(*) filter (where action <> 'settlement'
                and (price < 0.01 or price > 0.99
                     or fees <> ceil(7 * quantity * (price * 100) * (100 - price * 100) / 10000)
                        / 100)),
            count(*) filter (where action = 'settlement' and (fees <> 0 or price not in (0, 1))),
            count(*) filter (where action <> 'settlement' and fees > 0),
            max(quantity)
        from raw.trades"""
    )
    bad_price, bad_quantity, bad_fees, bad_settlement, with_fees, biggest = cursor.fetchone()
    assert (bad_price, bad_quantity, bad_fees, bad_settlement) == (0, 0, 0, 0)
    assert with_fees > 0 and 100 <= biggest <= 500
    cursor.execute(
        """select count(*) from raw.markets where yes_bid >= yes_ask or yes_bid < 0.01
            or yes_ask > 0.99 or no_bid <> 1 - yes_ask or no_ask <> 1 - yes_bid
            or yes_bid * 100 <> trunc(yes_bid * 100)"""
    )
    assert cursor.fetchone()[0] == 0


def test_settlements_pay_the_market_outcome_of_the_position_side(world):
    *_, cursor = world
    cursor.execute(
        """select count(*), count(*) filter (where t.price <> case when p.side = 'yes'
                then m.settlement_value else 1 - m.settlement_value end)
        from raw.trades t
        join raw.positions p on p.position_id = t.position_id and p.row_version = 1
        join raw.markets m on m.market_id = p.market_id and m.status = 'settled'
        where t.action = 'settlement'"""
    )
    settlements, wrong = cursor.fetchone()
    assert settlements > 1_000 and wrong == 0
    cursor.execute(
        """select count(*) from raw.trades t
        join raw.positions p on p.position_id = t.position_id and p.row_version = 1
        join raw.markets m on m.market_id = p.market_id and m.row_current_ind
        where (t.action = 'settlement' and t.execution_timestamp < m.close_ts)
            or (t.action <> 'settlement' and t.execution_timestamp >= m.close_ts)"""
    )
    assert cursor.fetchone()[0] == 0


def test_models_are_calibrated_as_designed(world):
    *_, cursor = world
    forecasts = frame(
        cursor,
        """select distinct on (p.model_id, p.market_id) p.model_id,
            p.predicted_prob::float as p, m.settlement_value::int as y
        from raw.model_predictions p
        join raw.markets m on m.market_id = p.market_id and m.status = 'settled'
        where p.prediction_timestamp < m.close_ts
        order by p.model_id, p.market_id, p.prediction_timestamp desc""",
    )
    cursor.execute("select count(*) from raw.markets where status = 'settled'")
    settled = cursor.fetchone()[0]
    scores = {}
    for model_id, group in forecasts.groupby("model_id"):
        assert len(group) == settled  # every model forecasts every market
        bins = np.clip(np.ceil(group.p * 10) - 1, 0, 9)
        stats = group.groupby(bins).agg(n=("y", "size"), p=("p", "mean"), y=("y", "mean"))
        reliability = (stats.n * (stats.p - stats.y) ** 2).sum() / len(group)
        scores[model_id] = (((group.p - group.y) ** 2).mean(), reliability)
    noisy, over, calibrated = scores[1], scores[2], scores[3]
    assert calibrated[0] < over[0] and calibrated[0] < noisy[0]  # Brier
    assert over[1] > 3 * calibrated[1]  # reliability: over-confidence shows
    assert calibrated[1] < 0.003


def test_experiments_are_balanced_and_only_the_assigned_arm_trades(world):
    *_, cursor = world
    cursor.execute(
        """select experiment_name, stratification_key,
            count(*) filter (where variant = 'control') - count(*) filter (where variant =
            'treatment') from raw.ab_test_assignments group by 1, 2"""
    )
    rows = cursor.fetchall()
    assert len(rows) > 20 and max(abs(r[2]) for r in rows) <= 60
    cursor.execute(
        """select count(*) from raw.positions p
        join raw.ab_experiments e on p.strategy_id in (e.control_strategy_id,
            e.treatment_strategy_id)
        left join raw.ab_test_assignments a on a.experiment_name = e.experiment_name
            and a.market_id = p.market_id
        where p.row_version = 1 and (
            (p.strategy_id = e.treatment_strategy_id and a.variant is distinct from 'treatment')
            or (p.strategy_id = e.control_strategy_id and a.variant = 'treatment'))"""
    )
    assert cursor.fetchone()[0] == 0


def test_the_planted_ab_difference_shows_and_the_aa_test_does_not(world):
    *_, cursor = world
    per_market = frame(
        cursor,
        """with position_pnl as (
            select t.position_id,
                sum(case when action = 'entry' then -1 else 1 end * quantity * price - fees)
                    as pnl
            from raw.trades t group by 1
            having bool_or(action <> 'entry')
        )
        select a.experiment_name, a.variant, a.market_id, coalesce(sum(pp.pnl), 0)::float as pnl
        from raw.ab_test_assignments a
        join raw.ab_experiments e using (experiment_name)
        join raw.markets m on m.market_id = a.market_id and m.status = 'settled'
        left join raw.positions p on p.market_id = a.market_id and p.row_version = 1
            and p.strategy_id = case a.variant when 'control' then e.control_strategy_id
                else e.treatment_strategy_id end
        left join position_pnl pp on pp.position_id = p.position_id
        group by 1, 2, 3""",
    )

    def welch(name):
        arms = per_market[per_market.experiment_name == name].groupby("variant").pnl
        mean, var, n = arms.mean(), arms.var(), arms.size()
        return (mean.treatment - mean.control) / np.sqrt((var / n).sum())

    # The planted effect is real but modest: Welch t of about 2 at this size (0.5 to 2.8 over
    # seeds 1-4), so its direction is asserted here and its detection, on a larger history,
    # in tests/precog/stats/test_ab_testing.py.
    assert welch("value_hunter_model_upgrade") > 0
    assert abs(welch("steady_edge_aa")) < 3


# --- appends ---------------------------------------------------------------------------------


def test_an_append_carries_late_trades_late_settlements_and_closing_updates(world):
    history, append, cursor = world
    assert append.window_start == END and append.late_trades > 0
    assert append.updated["markets"] > 0 and append.updated["positions"] > 0
    cursor.execute("select max(loaded_at) from raw.trades")
    loaded = cursor.fetchone()[0]
    cursor.execute(
        "select count(*), count(*) filter (where execution_timestamp < %s - interval '1 day')"
        " from raw.trades where loaded_at = %s and execution_timestamp < %s",
        (END, loaded, END),
    )
    late, very_late = cursor.fetchone()
    assert late == append.late_trades and very_late > 0
    # Late entries whose closing trades landed before them.
    cursor.execute(
        """select count(*) from raw.trades e join raw.trades c using (position_id)
        where e.action = 'entry' and c.action <> 'entry' and e.loaded_at = %s
            and c.loaded_at < e.loaded_at""",
        (loaded,),
    )
    assert cursor.fetchone()[0] > 0
    # Settlements of markets that closed before the window, and versions closed by UPDATE.
    cursor.execute(
        "select count(*) from raw.markets where loaded_at = %s and status = 'settled'"
        " and close_ts < %s - interval '1 day'",
        (loaded, END),
    )
    assert cursor.fetchone()[0] > 0
    cursor.execute(
        "select count(*) from raw.positions where loaded_at = %s and not row_current_ind"
        " and row_start_ts < %s",
        (loaded, END),
    )
    assert cursor.fetchone()[0] == append.updated["positions"]
    cursor.execute("select simulated_through from precog_meta.simulation")
    assert cursor.fetchone()[0] == END + dt.timedelta(hours=APPEND_HOURS)
    assert history.rows["trades"] + append.rows["trades"] == _count(cursor, "trades")


def _count(cursor, table):
    cursor.execute(f"select count(*) from raw.{table}")
    return cursor.fetchone()[0]


def warehouse_now(cursor) -> dt.datetime:
    """The clock the simulator refuses the future by: the warehouse's."""
    cursor.execute("select now()")
    return cursor.fetchone()[0]


def test_an_append_past_now_is_refused(warehouse, cursor):
    simulator.simulate_history(2_000, 1, END, target=warehouse)
    hours = int((warehouse_now(cursor) - END).total_seconds() // 3600) + 2
    with pytest.raises(simulator.SimulationError, match="earlier --end"):
        simulator.append_hours(hours, target=warehouse)
    cursor.execute("select simulated_through from precog_meta.simulation")
    assert cursor.fetchone()[0] == END


def test_an_append_without_history_and_a_future_end_are_refused(warehouse, cursor):
    with pytest.raises(simulator.SimulationError, match="no simulated history"):
        simulator.append_hours(1, target=warehouse)
    future = warehouse_now(cursor) + dt.timedelta(days=2)
    with pytest.raises(simulator.SimulationError, match="in the future"):
        simulator.simulate_history(2_000, 1, future, target=warehouse)
    with pytest.raises(ValueError, match="timezone"):
        simulator.simulate_history(2_000, 1, dt.datetime(2026, 1, 1), target=warehouse)


def test_data_the_simulator_did_not_write_is_never_wiped(warehouse, cursor):
    cursor.execute(
        "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
        " execution_timestamp) values (1, 1, 'entry', 1, 0.5, 0.01, now())"
    )
    with pytest.raises(database.DatabaseError, match="did not write"):
        simulator.simulate_history(2_000, 1, END, target=warehouse)
    assert _count(cursor, "trades") == 1


# --- bad rows ----------------------------------------------------------------------------------


def test_bad_rows_break_one_rule_each(warehouse, cursor):
    simulator.simulate_history(5_000, 2, END, target=warehouse)
    trades_before = _count(cursor, "trades")
    counts = simulator.add_bad_rows(22, seed=1, target=warehouse)
    assert set(counts) == set(simulator.BAD_KINDS) and sum(counts.values()) == 22
    assert counts["price_out_of_range"] == 3 and counts["multiple_current_versions"] == 2
    base = simulator.BAD_ID_BASE
    cursor.execute(
        """select
            count(*) filter (where price < 0 or price > 1),
            count(*) filter (where quantity <= 0),
            count(*) filter (where fees < 0),
            count(*) filter (where execution_timestamp > loaded_at + interval '5 minutes'),
            count(*) filter (where not exists (
                select 1 from raw.positions p where p.position_id = t.position_id))
        from raw.trades t"""
    )
    assert cursor.fetchone() == tuple(
        counts[k]
        for k in (
            "price_out_of_range",
            "non_positive_quantity",
            "negative_fees",
            "future_execution",
            "unknown_position",
        )
    )
    cursor.execute(
        "select count(*) - count(distinct trade_id) from raw.trades where trade_id < %s", (base,)
    )
    assert cursor.fetchone()[0] == counts["duplicate_trade_id"]
    cursor.execute(
        """select (select count(*) from raw.positions where row_current_ind)
                - (select count(distinct position_id) from raw.positions)
            + (select count(*) from raw.markets where row_current_ind)
                - (select count(distinct market_id) from raw.markets)"""
    )
    assert cursor.fetchone()[0] == counts["multiple_current_versions"]
    # closing_without_entry: 2 exits; closing_more_than_open: an entry and an exit each.
    added = _count(cursor, "trades") - trades_before
    assert added == 22 - counts["multiple_current_versions"] + counts["closing_more_than_open"]
    cursor.execute(
        """select count(*) filter (where first_action <> 'entry'),
                  count(*) filter (where closed > entered)
        from (select position_id,
                (array_agg(action order by execution_timestamp))[1] as first_action,
                sum(quantity) filter (where action = 'entry') as entered,
                sum(quantity) filter (where action <> 'entry') as closed
              from raw.trades where position_id >= %s group by 1) as p""",
        (base,),
    )
    assert cursor.fetchone() == (counts["closing_without_entry"], counts["closing_more_than_open"])
    again = simulator.add_bad_rows(9, target=warehouse)
    assert sum(again.values()) == 9
    cursor.execute(
        "select count(*) - count(distinct trade_id) from raw.trades where trade_id >= %s", (base,)
    )
    assert cursor.fetchone()[0] == 0  # reserved ids never collide between calls


def test_bad_rows_need_simulated_data(warehouse):
    with pytest.raises(simulator.SimulationError, match="simulate first"):
        simulator.add_bad_rows(3, target=warehouse)
