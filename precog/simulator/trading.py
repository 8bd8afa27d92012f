"""Trading: strategies entering where their model's edge beats their threshold, scaling in,
taking profit or holding to settlement; fees.
"""

from __future__ import annotations

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


def trade_positions(
    rng,
    eligible,
    market_id,
    m_start,
    m_close,
    m_settle,
    outcome,
    version_times,
    bid,
    ask,
    p_time,
    p4,
    p_bid,
    p_ask,
):
    """Positions and trades of the strategies on one day's markets."""
    mi, si = np.nonzero(eligible)
    model = STRATEGY_MODEL[si]
    # Decide at the model's first prediction with an edge above the threshold, if any.
    p = p4[mi, model, :]
    edge_yes = p - p_ask[mi, model, :] * 100
    edge_no = (10_000 - p) - (100 - p_bid[mi, model, :]) * 100
    best = np.maximum(edge_yes, edge_no)
    fires = best > STRATEGY_MIN_EDGE[si][:, None]
    enters = fires.any(axis=1)
    j = np.argmax(fires, axis=1)
    keep = np.nonzero(enters)[0]
    mi, si, j = mi[keep], si[keep], j[keep]
    n = len(mi)
    side_yes = edge_yes[keep, j] >= edge_no[keep, j]
    position_id = market_id[mi] * 100 + si
    decided = p_time[mi, STRATEGY_MODEL[si], j] + rng.integers(5, 120, n)
    window = m_start[mi] - decided

    def side_bid(at):
        b = lookup(version_times, bid, mi, at)
        a = lookup(version_times, ask, mi, at)
        return np.where(side_yes, b, 100 - a)

    def side_ask(at):
        b = lookup(version_times, bid, mi, at)
        a = lookup(version_times, ask, mi, at)
        return np.where(side_yes, a, 100 - b)

    # Entries: 1..scale_in, the later ones in the first half of the time left before the game.
    n_entries = STRATEGY_SCALE_IN[si] - rng.binomial(STRATEGY_SCALE_IN[si] - 1, 0.25)
    later = np.sort(rng.uniform(0.05, 0.5, (n, MAX_ENTRIES - 1)), axis=1)
    entry_time = np.empty((n, MAX_ENTRIES), dtype=np.int64)
    entry_time[:, 0] = decided
    entry_time[:, 1:] = decided[:, None] + (later * window[:, None]).astype(np.int64)
    for k in range(1, MAX_ENTRIES):
        entry_time[:, k] = np.maximum(entry_time[:, k], entry_time[:, k - 1] + 1)
    has_entry = np.arange(MAX_ENTRIES)[None, :] < n_entries[:, None]
    cap = STRATEGY_CAP[si]
    size = np.exp(
        rng.normal(np.log(np.maximum(cap / 5, 1)), 0.9)[:, None]
        + rng.normal(0, 0.3, (n, MAX_ENTRIES))
    )
    entry_qty = np.clip(np.round(size), 1, cap[:, None]).astype(np.int64) * has_entry
    entry_price = np.stack([side_ask(entry_time[:, k]) for k in range(MAX_ENTRIES)], axis=1)
    total_qty = entry_qty.sum(axis=1)
    cost = (entry_qty * entry_price).sum(axis=1)  # cents x contracts
    last_entry = entry_time[np.arange(n), n_entries - 1]
    ready = last_entry + rng.integers(60, 600, n)  # the position is built: monitoring

    # Exit: take profit at the first price version after `ready` whose bid clears the target;
    # a few positions exit at the in-play price anyway; the rest settle.
    rows = mi
    times = version_times[rows]
    side_bids = np.where(side_yes[:, None], bid[rows], 100 - ask[rows])
    tp = STRATEGY_TP[si]
    hit = (
        (times > ready[:, None])
        & (times != NONE)
        & (tp[:, None] > 0)
        & (side_bids * total_qty[:, None] - cost[:, None] >= tp[:, None] * total_qty[:, None])
    )
    tp_exit = hit.any(axis=1)
    tp_col = np.argmax(hit, axis=1)
    inplay_col = (times != NONE).sum(axis=1) - 1
    discretionary = ~tp_exit & (rng.random(n) < 0.05)
    exits = tp_exit | discretionary
    exit_col = np.where(tp_exit, tp_col, inplay_col)
    exit_time = times[np.arange(n), exit_col] + rng.integers(5, 300, n)
    exit_time = np.minimum(exit_time, m_close[mi] - 1)
    final_time = np.where(exits, exit_time, m_settle[mi])
    won = (outcome[mi] == 1) == side_yes
    final_price = np.where(exits, side_bid(exit_time), np.where(won, 100, 0))

    # An optional partial exit between `ready` and the final close (or the market close).
    until = np.where(exits, exit_time, m_close[mi])
    gap = until - ready
    partial = (rng.random(n) < 0.25) & (total_qty >= 2) & (gap >= 3)
    partial_time = ready + 1 + (rng.random(n) * np.maximum(gap - 2, 0)).astype(np.int64)
    partial_qty = np.clip(
        np.floor(total_qty * rng.uniform(0.2, 0.6, n)), 1, np.maximum(total_qty - 1, 1)
    ).astype(np.int64)
    partial_qty = np.where(partial, partial_qty, 0)
    partial_price = side_bid(partial_time)
    final_qty = total_qty - partial_qty

    # Trades: up to 3 entries, the partial exit, the final exit or settlement (in time order).
    t_time = np.concatenate([entry_time, partial_time[:, None], final_time[:, None]], axis=1)
    t_qty = np.concatenate([entry_qty, partial_qty[:, None], final_qty[:, None]], axis=1)
    t_price = np.concatenate([entry_price, partial_price[:, None], final_price[:, None]], axis=1)
    t_action = np.concatenate(
        [
            np.zeros((n, MAX_ENTRIES), np.int64),
            np.ones((n, 1), np.int64),
            np.where(exits, 1, 2)[:, None],
        ],
        axis=1,
    )
    t_valid = np.concatenate([has_entry, partial[:, None], np.ones((n, 1), bool)], axis=1)
    t_fees = np.where(t_action == 2, 0, fee_cents(t_qty, t_price))
    ordinal = np.cumsum(t_valid, axis=1) - 1
    pos_rows = np.nonzero(t_valid)
    delay = np.where(
        rng.random(t_valid.shape) < LATE_SHARE,
        np.exp(rng.uniform(np.log(LATE_MIN), np.log(LATE_MAX), t_valid.shape)).astype(np.int64),
        0,
    )
    trades_out = {
        "trade_id": position_id[pos_rows[0]] * 10 + ordinal[pos_rows],
        "position_id": position_id[pos_rows[0]],
        "action": t_action[pos_rows],
        "quantity": t_qty[pos_rows],
        "price": t_price[pos_rows],
        "fees": t_fees[pos_rows],
        "execution_timestamp": t_time[pos_rows],
        "available": (t_time + delay)[pos_rows],
    }

    # Position versions: open (first entry), monitoring (built, if scaled in), monitoring
    # (after a partial exit), exited or settled.
    avg4 = (cost * 200 + total_qty) // (2 * total_qty)  # average entry price, 1e-4, half up
    first_price4 = entry_price[:, 0] * 100
    v_time = np.stack([entry_time[:, 0], ready, partial_time, final_time], axis=1)
    v_valid = np.stack([np.ones(n, bool), n_entries >= 2, partial, np.ones(n, bool)], axis=1)
    v_qty = np.stack(
        [entry_qty[:, 0], total_qty, total_qty - partial_qty, np.zeros(n, np.int64)], axis=1
    )
    v_entry4 = np.stack([first_price4, avg4, avg4, avg4], axis=1)
    v_current = np.stack(
        [side_bid(entry_time[:, 0]), side_bid(ready), partial_price, final_price], axis=1
    )
    v_status = np.array([0, 1, 1, 2])[None, :] + np.zeros((n, 1), np.int64)
    v_status[:, 3] = np.where(exits, 2, 3)
    rows = np.nonzero(v_valid)
    pv_owner = position_id[rows[0]]
    pv_start = v_time[rows]
    pv_version, pv_end = segmented_versions(pv_owner, pv_start)
    pv_qty = v_qty[rows]
    positions_out = {
        "position_key": pv_owner * 10 + pv_version,
        "position_id": pv_owner,
        "market_id": market_id[mi][rows[0]],
        "strategy_id": STRATEGY_IDS[si][rows[0]],
        "model_id": MODEL_IDS[STRATEGY_MODEL[si]][rows[0]],
        "side": np.where(side_yes, 0, 1)[rows[0]],
        "quantity": pv_qty,
        "entry_price": v_entry4[rows],
        "current_price": v_current[rows],
        "unrealized_pnl": (v_current[rows] * 100 - v_entry4[rows]) * pv_qty,
        "status": v_status[rows],
        "start": pv_start,
        "end": pv_end,
        "row_version": pv_version,
    }
    return positions_out, trades_out


def fee_cents(quantity: np.ndarray, price_cents: np.ndarray) -> np.ndarray:
    """Kalshi's fee, ceil(0.07 x C x P x (1 - P)) to the cent, in integer arithmetic."""
    return (7 * quantity * price_cents * (100 - price_cents) + 9_999) // 10_000
