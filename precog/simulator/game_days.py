"""One game day over its whole lifecycle: games, markets and their price versions,
predictions and edges, positions (deterministic in seed and day).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from scipy.special import ndtr

from precog.simulator.trading import trade_positions
from precog.simulator.world import (
    DAY,
    DEPRECATED_UNTIL_DAY,
    EXPERIMENTS,
    LEAGUES,
    MODEL_CONFIDENCE,
    MODEL_IDS,
    N_STRATEGIES,
    NOISY,
    NONE,
    OVERCONFIDENT,
    STRATA,
    World,
    et_midnight,
    expected_games,
    lookup,
    segmented_versions,
    team_ratings,
)


def generate_day(world: World, day: int) -> dict[str, dict[str, np.ndarray]]:
    """Every row of game day `day` over its whole lifecycle (not yet cut to a window).

    SCD tables carry `start` and `end` (true end, NONE when never superseded); trades carry
    `available` (when the replication delivers them).
    """
    rng = np.random.default_rng([world.seed, day])
    date = dt.date.fromordinal(day)
    midnight = et_midnight(day)
    expected = expected_games(world.games_per_day, np.array([day]))[0]
    day_index = day - world.first_day

    # Games, league by league.
    g_league, g_home, g_away, g_round, g_start, g_dur = [], [], [], [], [], []
    g_elo_diff, g_hfa, g_margin_sd, g_total_sd, g_mu, g_tau = [], [], [], [], [], []
    for li, lg in enumerate(LEAGUES):
        n = int(rng.poisson(expected[li])) if expected[li] > 0 else 0
        if n == 0:
            continue
        teams = len(lg.teams)
        per_round = teams // 2
        rounds = -(-n // per_round)
        drawn = [rng.permutation(teams)[: 2 * per_round] for _ in range(rounds)]
        pairs = np.concatenate(drawn).reshape(-1, 2)[:n]
        minutes, weights = lg.slot_table(date.weekday())
        slot = rng.choice(len(minutes), size=n, p=weights)
        season = date.year if date.month >= lg.rollover_month else date.year - 1
        ratings = team_ratings(world.seed, li, season)
        g_league.append(np.full(n, li))
        g_home.append(pairs[:, 1])
        g_away.append(pairs[:, 0])
        g_round.append(np.arange(n) // per_round)
        g_start.append(midnight + minutes[slot] * 60)
        g_dur.append(
            lg.duration_min * 60 + np.clip(rng.normal(0, 12, n), -30, 40).astype(np.int64) * 60
        )
        diff = ratings[pairs[:, 1]] - ratings[pairs[:, 0]]
        g_elo_diff.append(diff)
        g_hfa.append(np.full(n, lg.hfa_elo))
        g_margin_sd.append(np.full(n, lg.margin_sd))
        g_total_sd.append(np.full(n, lg.total_sd))
        g_mu.append((diff + lg.hfa_elo) * 0.0036 * lg.margin_sd)
        g_tau.append(lg.total_mean * (1 + 0.06 * rng.standard_normal(n)))
    if not g_league:
        return {}
    league = np.concatenate(g_league)
    home, away, game_round = np.concatenate(g_home), np.concatenate(g_away), np.concatenate(g_round)
    start, duration = np.concatenate(g_start).astype(np.int64), np.concatenate(g_dur)
    elo_diff, hfa = np.concatenate(g_elo_diff), np.concatenate(g_hfa)
    margin_sd, total_sd = np.concatenate(g_margin_sd), np.concatenate(g_total_sd)
    mu, tau = np.concatenate(g_mu), np.concatenate(g_tau)
    games = len(league)
    # The game itself: margin and total, each in two halves (the in-play price sees the first).
    m1 = rng.normal(0, 1, games) * margin_sd / math.sqrt(2)
    m2 = rng.normal(0, 1, games) * margin_sd / math.sqrt(2)
    t1 = rng.normal(0, 1, games) * total_sd / math.sqrt(2)
    t2 = rng.normal(0, 1, games) * total_sd / math.sqrt(2)
    lead_lo = np.array([LEAGUES[i].lead_days[0] for i in league])
    lead_hi = np.array([LEAGUES[i].lead_days[1] for i in league])
    game_open = start - (rng.uniform(lead_lo, lead_hi) * DAY).astype(np.int64)

    # Markets: 1 moneyline, 2-3 spreads, 2-3 totals per game.
    n_spread = rng.integers(2, 4, games)
    n_total = rng.integers(2, 4, games)
    per_game = 1 + n_spread + n_total
    game = np.repeat(np.arange(games), per_game)
    markets = len(game)
    slot_in_game = np.arange(markets) - np.repeat(np.cumsum(per_game) - per_game, per_game)
    kind = np.where(slot_in_game == 0, 0, np.where(slot_in_game <= n_spread[game], 1, 2))
    line_rank = np.where(kind == 1, slot_in_game - 1, slot_in_game - 1 - n_spread[game])
    offsets = np.array([0, 2, -2])[np.clip(line_rank, 0, 2)]
    fixed = np.array([LEAGUES[i].fixed_spread for i in league])[game]
    spread_step = np.array([LEAGUES[i].spread_step for i in league])[game]
    total_step = np.array([LEAGUES[i].total_step for i in league])[game]
    favourite_home = mu[game] >= 0
    base_spread = np.where(fixed, 1, np.floor(np.abs(mu[game])).astype(np.int64))
    spread_off = np.where(fixed, np.abs(offsets) // 2 + (offsets < 0), offsets)  # 1.5 2.5 3.5
    spread_line = base_spread + spread_step * spread_off
    spread_line = np.where(spread_line < 0, base_spread + 4 * spread_step, spread_line)
    total_line = np.floor(tau[game]).astype(np.int64) + total_step * offsets
    line10 = np.where(kind == 0, 0, np.where(kind == 1, spread_line, total_line) * 10 + 5)
    direction = np.where((kind == 1) & ~favourite_home, -1.0, 1.0)
    scale = np.where(kind == 2, total_sd[game], margin_sd[game])
    location = np.where(kind == 2, tau[game], direction * mu[game])
    final = np.where(
        kind == 2, tau[game] + t1[game] + t2[game], direction * (mu[game] + m1[game] + m2[game])
    )
    half = np.where(kind == 2, tau[game] + t1[game], direction * (mu[game] + m1[game]))
    line = line10 / 10.0
    z = (location - line) / scale
    outcome = (final > line).astype(np.int64)
    z_inplay = (half - line) / (scale / math.sqrt(2)) + rng.normal(0, 0.1, markets)

    m_start = start[game]
    m_open = game_open[game] + np.where(kind == 0, 0, rng.integers(0, 6 * 3600, markets))
    m_close = m_start + duration[game]
    late_settle = rng.random(markets) < 0.03
    m_settle = m_close + np.where(
        late_settle, rng.integers(DAY, 5 * DAY, markets), rng.integers(300, 2700, markets)
    )
    market_id = day * 100_000 + np.arange(markets, dtype=np.int64)

    # Price versions: 1-3 before the game (the first at the opening), one in play.
    n_pre = rng.integers(1, 4, markets)
    fractions = np.sort(rng.uniform(0.05, 0.95, (markets, 3)), axis=1)
    fractions[:, 0] = 0.0
    pre_times = m_open[:, None] + (fractions * (m_start - m_open)[:, None]).astype(np.int64)
    noise = np.empty((markets, 3))
    noise[:, 0] = rng.normal(0, 0.2, markets)
    for k in (1, 2):
        noise[:, k] = 0.6 * noise[:, k - 1] + 0.8 * rng.normal(0, 0.2, markets)
    mid_pre = ndtr(z[:, None] + noise)
    mid_inplay = ndtr(z_inplay)
    spread_cents = np.where(kind == 0, rng.integers(1, 3, markets), rng.integers(2, 5, markets))
    inplay_time = m_start + duration[game] // 2 + rng.integers(-300, 300, markets)
    version_times = np.full((markets, 4), NONE, dtype=np.int64)
    mids = np.empty((markets, 4))
    columns = np.arange(4)
    is_pre = columns[None, :] < n_pre[:, None]
    version_times[:, :3] = np.where(is_pre[:, :3], pre_times, NONE)
    version_times[np.arange(markets), n_pre] = inplay_time
    mids[:, :3] = mid_pre
    mids[:, 3] = mid_inplay
    mids[np.arange(markets), n_pre] = mid_inplay
    bid = np.clip(np.round(mids * 100 - spread_cents[:, None] / 2), 1, 98).astype(np.int64)
    ask = np.clip(bid + spread_cents[:, None], bid + 1, 99)
    bid = np.where(version_times == NONE, bid[np.arange(markets), n_pre][:, None], bid)
    ask = np.where(version_times == NONE, ask[np.arange(markets), n_pre][:, None], ask)
    base_volume = rng.integers(200, 5000, markets)

    # Market version rows: the price versions, closed, settled.
    n_versions = n_pre + 3
    mrow = np.repeat(np.arange(markets), n_versions)
    vno = np.arange(len(mrow)) - np.repeat(np.cumsum(n_versions) - n_versions, n_versions)
    price_col = np.minimum(vno, n_pre[mrow])
    is_closed = vno == n_pre[mrow] + 1
    is_settled = vno == n_pre[mrow] + 2
    mv_start = np.where(
        is_settled,
        m_settle[mrow],
        np.where(is_closed, m_close[mrow], version_times[mrow, np.minimum(vno, 3)]),
    )
    mv_version, mv_end = segmented_versions(mrow, mv_start)
    yes_bid = bid[mrow, price_col]
    yes_ask = ask[mrow, price_col]
    ticker_parts = _tickers(
        date, league, home, away, game_round, kind, line10, favourite_home, game
    )
    markets_out = {
        "market_key": market_id[mrow] * 10 + mv_version,
        "market_id": market_id[mrow],
        "ticker": ticker_parts[mrow],
        "league": league[game][mrow],
        "market_type": kind[mrow],
        "event_start_ts": m_start[mrow],
        "close_ts": m_close[mrow],
        "yes_bid": yes_bid,
        "yes_ask": yes_ask,
        "no_bid": 100 - yes_ask,
        "no_ask": 100 - yes_bid,
        "volume": (base_volume[mrow] * (1 + 0.9 * np.minimum(vno, n_pre[mrow]))).astype(np.int64),
        "status": np.where(is_settled, 2, np.where(is_closed, 1, 0)),
        "settlement_value": np.where(is_settled, outcome[mrow], -1),
        "start": mv_start,
        "end": mv_end,
        "row_version": mv_version,
    }

    # Predictions: each model twice before the game: early, and in the last stretch.
    life = m_start - m_open
    p_time = np.empty((markets, 3, 2), dtype=np.int64)
    p_time[:, :, 0] = m_open[:, None] + (rng.uniform(0.02, 0.5, (markets, 3)) * life[:, None])
    p_time[:, :, 1] = (m_open + life // 2)[:, None] + (
        rng.uniform(0, 1, (markets, 3)) * (life // 2 - 900)[:, None]
    ).astype(np.int64)
    z_model = z[:, None, None] + rng.normal(0, 0.05, (markets, 3, 2))
    # The legacy model ignores home advantage (so it leans to away sides) and is noisy.
    home_lean = np.where(kind == 2, 0.0, 0.0036 * hfa[game] * direction)
    z_model[:, NOISY, :] += (rng.normal(0, 0.5, markets) - home_lean)[:, None] + rng.normal(
        0, 0.08, (markets, 2)
    )
    prob = ndtr(z_model)
    logit = np.log(prob[:, OVERCONFIDENT, :]) - np.log1p(-prob[:, OVERCONFIDENT, :])
    prob[:, OVERCONFIDENT, :] = 1 / (1 + np.exp(-2.5 * logit))
    p4 = np.clip(np.round(prob * 10_000), 1, 9_999).astype(np.int64)
    flat_rows = np.repeat(np.arange(markets), 6)
    flat_time = p_time.reshape(-1)
    p_bid = lookup(version_times, bid, flat_rows, flat_time).reshape(markets, 3, 2)
    p_ask = lookup(version_times, ask, flat_rows, flat_time).reshape(markets, 3, 2)
    model_index = np.tile(np.repeat(np.arange(3), 2), markets)
    prediction_id = market_id[flat_rows] * 100 + model_index * 10 + np.tile([0, 1], markets * 3)
    mid_e3 = (p_bid + p_ask).reshape(-1) * 5  # the YES mid in 1e-3 units
    predictions_out = {
        "prediction_id": prediction_id,
        "model_id": MODEL_IDS[model_index],
        "market_id": market_id[flat_rows],
        "predicted_prob": p4.reshape(-1),
        "features": _features(
            np.round(elo_diff[game][flat_rows] * 10).astype(np.int64),
            hfa[game][flat_rows],
            mid_e3,
        ),
        "prediction_timestamp": flat_time,
    }
    edge_version, edge_end = segmented_versions(flat_rows * 3 + model_index, flat_time)
    edges_out = {
        "edge_key": prediction_id,
        "market_id": market_id[flat_rows],
        "model_id": MODEL_IDS[model_index],
        "predicted_prob": p4.reshape(-1),
        "market_price": mid_e3,
        "edge": p4.reshape(-1) - mid_e3 * 10,
        "confidence": MODEL_CONFIDENCE[model_index] + rng.integers(-500, 500, markets * 6),
        "start": flat_time,
        "end": edge_end,
        "row_version": edge_version,
    }

    # A/B assignments, balanced within league x market type strata, at the market's opening.
    stratum = league[game] * 3 + kind
    variant = np.full((markets, len(EXPERIMENTS)), -1)
    assign_rows, assign_exp = [], []
    for e in range(len(EXPERIMENTS)):
        eligible = np.nonzero(m_open >= world.experiment_start(e))[0]
        order = eligible[np.lexsort((rng.random(len(eligible)), stratum[eligible]))]
        if len(order):
            s = stratum[order]
            first = np.r_[True, s[1:] != s[:-1]]
            rank = np.arange(len(order)) - np.maximum.accumulate(
                np.where(first, np.arange(len(order)), 0)
            )
            flip = rng.integers(0, 2, len(STRATA))
            variant[order, e] = (rank + flip[s]) % 2
        assign_rows.append(np.sort(eligible))
        assign_exp.append(np.full(len(eligible), e))
    a_rows, a_exp = np.concatenate(assign_rows), np.concatenate(assign_exp)
    assignments_out = {
        "assignment_id": market_id[a_rows] * 10 + a_exp,
        "experiment_name": a_exp,
        "market_id": market_id[a_rows],
        "variant": variant[a_rows, a_exp],
        "stratification_key": stratum[a_rows],
        "assigned_at": m_open[a_rows],
    }

    # Which strategies may trade which market.
    eligible = np.zeros((markets, N_STRATEGIES), bool)
    eligible[:, 4:8] = True
    eligible[:, 0] = variant[:, 0] == 0
    eligible[:, 1] = variant[:, 0] == 1
    eligible[:, 2] = variant[:, 1] != 1  # control, or not in the A/A experiment (before it)
    eligible[:, 3] = variant[:, 1] == 1
    eligible[:, 8] = day_index < DEPRECATED_UNTIL_DAY
    positions_out, trades_out = trade_positions(
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
    )
    return {
        "markets": markets_out,
        "model_predictions": predictions_out,
        "edges": edges_out,
        "ab_test_assignments": assignments_out,
        "positions": positions_out,
        "trades": trades_out,
    }


def _tickers(date, league, home, away, game_round, kind, line10, favourite_home, game):
    stamp = date.strftime("%Y%m%d")
    out = []
    for m in range(len(game)):
        g = game[m]
        lg = LEAGUES[league[g]]
        h, a = lg.teams[home[g]], lg.teams[away[g]]
        base = f"{lg.name}-{stamp}-{a}{h}" + (f"G{game_round[g] + 1}" if game_round[g] else "")
        k = kind[m]
        if k == 0:
            out.append(f"{base}-WIN-{h}")
        elif k == 1:
            fav = h if favourite_home[m] else a
            out.append(f"{base}-SPREAD-{fav}{line10[m] // 10}.5")
        else:
            out.append(f"{base}-TOTAL-{line10[m] // 10}.5")
    return np.array(out, dtype="S")


def _fixed(values: np.ndarray, scale: int, width: int) -> np.ndarray:
    """Integers (in units of 10**-scale) as right-aligned decimal text, shape (n, width) uint8."""
    values = np.asarray(values, np.int64)
    n = len(values)
    out = np.full((width, n), ord(" "), np.uint8)
    rest = np.abs(values)
    pos = width - 1
    for _ in range(scale):
        out[pos] = 48 + rest % 10
        rest //= 10
        pos -= 1
    if scale:
        out[pos] = ord(".")
        pos -= 1
    digits = np.ones(n, np.int64)
    out[pos] = 48 + rest % 10
    rest //= 10
    for p in range(pos - 1, -1, -1):
        present = rest > 0
        out[p] = np.where(present, 48 + rest % 10, out[p])
        digits += present
        rest //= 10
    negative = np.nonzero(values < 0)[0]
    out[pos - digits[negative], negative] = ord("-")
    return np.ascontiguousarray(out.T)


def _features(elo_diff10: np.ndarray, hfa: np.ndarray, mid_e3: np.ndarray) -> np.ndarray:
    """The features JSON of each prediction, fixed width (JSON allows the padding spaces)."""
    parts = [
        np.frombuffer(b'{"elo_diff": ', np.uint8),
        _fixed(np.clip(elo_diff10, -9_999, 9_999), 1, 7),
        np.frombuffer(b', "home_advantage": ', np.uint8),
        _fixed(hfa, 0, 3),
        np.frombuffer(b', "market_mid": ', np.uint8),
        _fixed(mid_e3, 3, 5),
        np.frombuffer(b"}", np.uint8),
    ]
    n = len(elo_diff10)
    pieces = [p if p.ndim == 2 else np.broadcast_to(p, (n, len(p))) for p in parts]
    matrix = np.concatenate(pieces, axis=1)
    return matrix.view(f"S{matrix.shape[1]}").reshape(n)
