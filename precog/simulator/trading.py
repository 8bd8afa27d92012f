"""Trading: strategies entering where their model's edge beats their threshold, scaling in,
taking profit or holding to settlement; fees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from precog.simulator.world import (
    LATE_MAX,
    LATE_MIN,
    LATE_SHARE,
    MAX_ENTRIES,
    MODEL_IDS,
    NONE,
    STRATEGY_CAP,
    STRATEGY_IDS,
    STRATEGY_MIN_EDGE,
    STRATEGY_MODEL,
    STRATEGY_SCALE_IN,
    STRATEGY_TP,
    lookup,
    segmented_versions,
)


@dataclass
class Decisions:
    """The positions the strategies open: one element per position."""

    mi: np.ndarray  # the market's row in the day's markets
    si: np.ndarray  # the strategy's index
    side_yes: np.ndarray
    position_id: np.ndarray
    decided: np.ndarray  # when the strategy decides to enter


@dataclass
class Entries:
    """Each position's entries, up to MAX_ENTRIES (unused ones: quantity 0)."""

    n_entries: np.ndarray
    time: np.ndarray  # (positions, MAX_ENTRIES)
    quantity: np.ndarray
    price: np.ndarray
    has_entry: np.ndarray
    total_qty: np.ndarray
    cost: np.ndarray  # cents x contracts
    ready: np.ndarray  # when the position is built: monitoring


@dataclass
class Exits:
    """How each position ends (the final exit or the settlement) and its optional partial exit
    before that."""

    exits: np.ndarray  # exits before settlement (take profit or discretionary)
    final_time: np.ndarray
    final_price: np.ndarray
    final_qty: np.ndarray
    partial: np.ndarray
    partial_time: np.ndarray
    partial_qty: np.ndarray
    partial_price: np.ndarray


def trade_positions(rng, eligible, markets, prices, forecasts) -> tuple[dict, dict]:
    """Positions and trades of the strategies on one day's markets (precog.simulator.game_days'
    Markets, Prices and Forecasts), as raw.positions and raw.trades rows."""
    decisions = _decisions(rng, eligible, markets, forecasts)
    quotes = _SideQuotes(prices, decisions)
    entries = _entries(rng, markets, decisions, quotes)
    exits = _exits(rng, markets, prices, decisions, entries, quotes)
    trades = _trade_rows(rng, decisions, entries, exits)
    positions = _position_versions(markets, decisions, entries, exits, quotes)
    return positions, trades


def _decisions(rng, eligible, markets, forecasts) -> Decisions:
    """Each eligible strategy enters at its model's first prediction with an edge above its
    threshold, if any, on the side with the larger edge."""
    mi, si = np.nonzero(eligible)
    model = STRATEGY_MODEL[si]
    p = forecasts.p4[mi, model, :]
    edge_yes = p - forecasts.ask[mi, model, :] * 100
    edge_no = (10_000 - p) - (100 - forecasts.bid[mi, model, :]) * 100
    best = np.maximum(edge_yes, edge_no)
    fires = best > STRATEGY_MIN_EDGE[si][:, None]
    enters = fires.any(axis=1)
    j = np.argmax(fires, axis=1)
    keep = np.nonzero(enters)[0]
    mi, si, j = mi[keep], si[keep], j[keep]
    decided = forecasts.times[mi, STRATEGY_MODEL[si], j] + rng.integers(5, 120, len(mi))
    return Decisions(
        mi=mi,
        si=si,
        side_yes=edge_yes[keep, j] >= edge_no[keep, j],
        position_id=markets.market_id[mi] * 100 + si,
        decided=decided,
    )


class _SideQuotes:
    """The bid and ask of each position's side at given times."""

    def __init__(self, prices, decisions: Decisions):
        self._prices, self._mi, self._yes = prices, decisions.mi, decisions.side_yes

    def _quotes(self, at):
        p = self._prices
        return lookup(p.version_times, p.bid, self._mi, at), lookup(
            p.version_times, p.ask, self._mi, at
        )

    def bid(self, at):
        b, a = self._quotes(at)
        return np.where(self._yes, b, 100 - a)

    def ask(self, at):
        b, a = self._quotes(at)
        return np.where(self._yes, a, 100 - b)


def _entries(rng, markets, d: Decisions, quotes: _SideQuotes) -> Entries:
    """1..scale_in entries, the later ones in the first half of the time left before the game."""
    n = len(d.mi)
    window = markets.start[d.mi] - d.decided
    n_entries = STRATEGY_SCALE_IN[d.si] - rng.binomial(STRATEGY_SCALE_IN[d.si] - 1, 0.25)
    later = np.sort(rng.uniform(0.05, 0.5, (n, MAX_ENTRIES - 1)), axis=1)
    entry_time = np.empty((n, MAX_ENTRIES), dtype=np.int64)
    entry_time[:, 0] = d.decided
    entry_time[:, 1:] = d.decided[:, None] + (later * window[:, None]).astype(np.int64)
    for k in range(1, MAX_ENTRIES):
        entry_time[:, k] = np.maximum(entry_time[:, k], entry_time[:, k - 1] + 1)
    has_entry = np.arange(MAX_ENTRIES)[None, :] < n_entries[:, None]
    cap = STRATEGY_CAP[d.si]
    size = np.exp(
        rng.normal(np.log(np.maximum(cap / 5, 1)), 0.9)[:, None]
        + rng.normal(0, 0.3, (n, MAX_ENTRIES))
    )
    entry_qty = np.clip(np.round(size), 1, cap[:, None]).astype(np.int64) * has_entry
    entry_price = np.stack([quotes.ask(entry_time[:, k]) for k in range(MAX_ENTRIES)], axis=1)
    last_entry = entry_time[np.arange(n), n_entries - 1]
    return Entries(
        n_entries=n_entries,
        time=entry_time,
        quantity=entry_qty,
        price=entry_price,
        has_entry=has_entry,
        total_qty=entry_qty.sum(axis=1),
        cost=(entry_qty * entry_price).sum(axis=1),
        ready=last_entry + rng.integers(60, 600, n),
    )


def _exits(rng, markets, prices, d: Decisions, e: Entries, quotes: _SideQuotes) -> Exits:
    """Take profit at the first price version after `ready` whose bid clears the target; a few
    positions exit at the in-play price anyway; the rest settle. Then an optional partial exit
    between `ready` and the final close (or the market close)."""
    mi = d.mi
    n = len(mi)
    times = prices.version_times[mi]
    side_bids = np.where(d.side_yes[:, None], prices.bid[mi], 100 - prices.ask[mi])
    tp = STRATEGY_TP[d.si]
    hit = (
        (times > e.ready[:, None])
        & (times != NONE)
        & (tp[:, None] > 0)
        & (side_bids * e.total_qty[:, None] - e.cost[:, None] >= tp[:, None] * e.total_qty[:, None])
    )
    tp_exit = hit.any(axis=1)
    tp_col = np.argmax(hit, axis=1)
    inplay_col = (times != NONE).sum(axis=1) - 1
    discretionary = ~tp_exit & (rng.random(n) < 0.05)
    exits = tp_exit | discretionary
    exit_col = np.where(tp_exit, tp_col, inplay_col)
    exit_time = times[np.arange(n), exit_col] + rng.integers(5, 300, n)
    exit_time = np.minimum(exit_time, markets.close[mi] - 1)
    won = (markets.outcome[mi] == 1) == d.side_yes
    final_price = np.where(exits, quotes.bid(exit_time), np.where(won, 100, 0))

    until = np.where(exits, exit_time, markets.close[mi])
    gap = until - e.ready
    partial = (rng.random(n) < 0.25) & (e.total_qty >= 2) & (gap >= 3)
    partial_time = e.ready + 1 + (rng.random(n) * np.maximum(gap - 2, 0)).astype(np.int64)
    partial_qty = np.clip(
        np.floor(e.total_qty * rng.uniform(0.2, 0.6, n)), 1, np.maximum(e.total_qty - 1, 1)
    ).astype(np.int64)
    partial_qty = np.where(partial, partial_qty, 0)
    return Exits(
        exits=exits,
        final_time=np.where(exits, exit_time, markets.settle[mi]),
        final_price=final_price,
        final_qty=e.total_qty - partial_qty,
        partial=partial,
        partial_time=partial_time,
        partial_qty=partial_qty,
        partial_price=quotes.bid(partial_time),
    )


def _trade_rows(rng, d: Decisions, e: Entries, x: Exits) -> dict:
    """raw.trades: up to MAX_ENTRIES entries, the partial exit, the final exit or settlement
    (in time order); a share of them delivered late by the replication."""
    n = len(d.mi)
    t_time = np.concatenate([e.time, x.partial_time[:, None], x.final_time[:, None]], axis=1)
    t_qty = np.concatenate([e.quantity, x.partial_qty[:, None], x.final_qty[:, None]], axis=1)
    t_price = np.concatenate([e.price, x.partial_price[:, None], x.final_price[:, None]], axis=1)
    t_action = np.concatenate(
        [
            np.zeros((n, MAX_ENTRIES), np.int64),
            np.ones((n, 1), np.int64),
            np.where(x.exits, 1, 2)[:, None],
        ],
        axis=1,
    )
    t_valid = np.concatenate([e.has_entry, x.partial[:, None], np.ones((n, 1), bool)], axis=1)
    t_fees = np.where(t_action == 2, 0, fee_cents(t_qty, t_price))
    ordinal = np.cumsum(t_valid, axis=1) - 1
    rows = np.nonzero(t_valid)
    delay = np.where(
        rng.random(t_valid.shape) < LATE_SHARE,
        np.exp(rng.uniform(np.log(LATE_MIN), np.log(LATE_MAX), t_valid.shape)).astype(np.int64),
        0,
    )
    return {
        "trade_id": d.position_id[rows[0]] * 10 + ordinal[rows],
        "position_id": d.position_id[rows[0]],
        "action": t_action[rows],
        "quantity": t_qty[rows],
        "price": t_price[rows],
        "fees": t_fees[rows],
        "execution_timestamp": t_time[rows],
        "available": (t_time + delay)[rows],
    }


def _position_versions(markets, d: Decisions, e: Entries, x: Exits, quotes: _SideQuotes) -> dict:
    """raw.positions: open (first entry), monitoring (built, if scaled in), monitoring (after a
    partial exit), exited or settled."""
    n = len(d.mi)
    avg4 = (e.cost * 200 + e.total_qty) // (2 * e.total_qty)  # average entry price, 1e-4, half up
    first_price4 = e.price[:, 0] * 100
    v_time = np.stack([e.time[:, 0], e.ready, x.partial_time, x.final_time], axis=1)
    v_valid = np.stack([np.ones(n, bool), e.n_entries >= 2, x.partial, np.ones(n, bool)], axis=1)
    v_qty = np.stack(
        [e.quantity[:, 0], e.total_qty, e.total_qty - x.partial_qty, np.zeros(n, np.int64)],
        axis=1,
    )
    v_entry4 = np.stack([first_price4, avg4, avg4, avg4], axis=1)
    v_current = np.stack(
        [quotes.bid(e.time[:, 0]), quotes.bid(e.ready), x.partial_price, x.final_price], axis=1
    )
    v_status = np.array([0, 1, 1, 2])[None, :] + np.zeros((n, 1), np.int64)
    v_status[:, 3] = np.where(x.exits, 2, 3)
    rows = np.nonzero(v_valid)
    owner = d.position_id[rows[0]]
    start = v_time[rows]
    version, end = segmented_versions(owner, start)
    quantity = v_qty[rows]
    return {
        "position_key": owner * 10 + version,
        "position_id": owner,
        "market_id": markets.market_id[d.mi][rows[0]],
        "strategy_id": STRATEGY_IDS[d.si][rows[0]],
        "model_id": MODEL_IDS[STRATEGY_MODEL[d.si]][rows[0]],
        "side": np.where(d.side_yes, 0, 1)[rows[0]],
        "quantity": quantity,
        "entry_price": v_entry4[rows],
        "current_price": v_current[rows],
        "unrealized_pnl": (v_current[rows] * 100 - v_entry4[rows]) * quantity,
        "status": v_status[rows],
        "start": start,
        "end": end,
        "row_version": version,
    }


def fee_cents(quantity: np.ndarray, price_cents: np.ndarray) -> np.ndarray:
    """Kalshi's fee, ceil(0.07 x C x P x (1 - P)) to the cent, in integer arithmetic."""
    return (7 * quantity * price_cents * (100 - price_cents) + 9_999) // 10_000
