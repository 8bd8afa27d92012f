"""One game day over its whole lifecycle: games, markets and their price versions,
predictions and edges, positions (deterministic in seed and day).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

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


@dataclass
class Games:
    """One day's games, one element per game, and how each was played."""

    league: np.ndarray
    home: np.ndarray
    away: np.ndarray
    game_round: np.ndarray
    start: np.ndarray
    duration: np.ndarray
    elo_diff: np.ndarray
    hfa: np.ndarray
    margin_sd: np.ndarray
    total_sd: np.ndarray
    mu: np.ndarray  # expected home margin
    tau: np.ndarray  # expected total
    m1: np.ndarray  # margin and total, each in two halves (the in-play price sees the first)
    m2: np.ndarray
    t1: np.ndarray
    t2: np.ndarray
    opens: np.ndarray  # when its markets open


@dataclass
class Markets:
    """One day's markets, one element per market (`game` indexes Games)."""

    market_id: np.ndarray
    game: np.ndarray
    kind: np.ndarray  # 0 moneyline, 1 spread, 2 total
    line10: np.ndarray
    favourite_home: np.ndarray
    direction: np.ndarray
    z: np.ndarray  # the fair price's probit before the game
    z_inplay: np.ndarray
    outcome: np.ndarray
    start: np.ndarray
    opens: np.ndarray
    close: np.ndarray
    settle: np.ndarray


@dataclass
class Prices:
    """Each market's price versions: up to 3 before the game and one in play (NONE unused)."""

    n_pre: np.ndarray
    version_times: np.ndarray  # (markets, 4)
    bid: np.ndarray  # YES bid and ask in cents, (markets, 4)
    ask: np.ndarray
    base_volume: np.ndarray


@dataclass
class Forecasts:
    """Each model's two predictions per market (markets, 3 models, 2), with the quotes then."""

    times: np.ndarray
    p4: np.ndarray  # probability of YES, 1e-4
    bid: np.ndarray
    ask: np.ndarray


def generate_day(world: World, day: int) -> dict[str, dict[str, np.ndarray]]:
    """Every row of game day `day` over its whole lifecycle (not yet cut to a window).

    SCD tables carry `start` and `end` (true end, NONE when never superseded); trades carry
    `available` (when the replication delivers them). The sections draw from one generator in
    a fixed order, so a day is the same for the same seed.
    """
    rng = np.random.default_rng([world.seed, day])
    date = dt.date.fromordinal(day)
    games = _games(rng, world, day)
    if games is None:
        return {}
    markets = _markets(rng, games, day)
    prices = _price_versions(rng, markets)
    markets_out = _market_rows(date, games, markets, prices)
    predictions_out, edges_out, forecasts = _predictions(rng, games, markets, prices)
    assignments_out, variant = _assignments(rng, world, games, markets)
    eligible = _eligible_strategies(variant, day - world.first_day)
    positions_out, trades_out = trade_positions(rng, eligible, markets, prices, forecasts)
    return {
        "markets": markets_out,
        "model_predictions": predictions_out,
        "edges": edges_out,
        "ab_test_assignments": assignments_out,
        "positions": positions_out,
        "trades": trades_out,
    }


def _games(rng, world: World, day: int) -> Games | None:
    """The day's games, league by league, and how they were played; None on a day without."""
    date = dt.date.fromordinal(day)
    midnight = et_midnight(day)
    expected = expected_games(world.games_per_day, np.array([day]))[0]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _GAME_PARTS}
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
        diff = ratings[pairs[:, 1]] - ratings[pairs[:, 0]]
        parts["league"].append(np.full(n, li))
        parts["home"].append(pairs[:, 1])
        parts["away"].append(pairs[:, 0])
        parts["game_round"].append(np.arange(n) // per_round)
        parts["start"].append(midnight + minutes[slot] * 60)
        parts["duration"].append(
            lg.duration_min * 60 + np.clip(rng.normal(0, 12, n), -30, 40).astype(np.int64) * 60
        )
        parts["elo_diff"].append(diff)
        parts["hfa"].append(np.full(n, lg.hfa_elo))
        parts["margin_sd"].append(np.full(n, lg.margin_sd))
        parts["total_sd"].append(np.full(n, lg.total_sd))
        parts["mu"].append((diff + lg.hfa_elo) * 0.0036 * lg.margin_sd)
        parts["tau"].append(lg.total_mean * (1 + 0.06 * rng.standard_normal(n)))
    if not parts["league"]:
        return None
    columns = {name: np.concatenate(arrays) for name, arrays in parts.items()}
    columns["start"] = columns["start"].astype(np.int64)
    league, count = columns["league"], len(columns["league"])
    margin_sd, total_sd = columns["margin_sd"], columns["total_sd"]
    m1 = rng.normal(0, 1, count) * margin_sd / math.sqrt(2)
    m2 = rng.normal(0, 1, count) * margin_sd / math.sqrt(2)
    t1 = rng.normal(0, 1, count) * total_sd / math.sqrt(2)
    t2 = rng.normal(0, 1, count) * total_sd / math.sqrt(2)
    lead_lo = np.array([LEAGUES[i].lead_days[0] for i in league])
    lead_hi = np.array([LEAGUES[i].lead_days[1] for i in league])
    opens = columns["start"] - (rng.uniform(lead_lo, lead_hi) * DAY).astype(np.int64)
    return Games(**columns, m1=m1, m2=m2, t1=t1, t2=t2, opens=opens)


# The Games fields drawn league by league.
_GAME_PARTS = (
    *("league", "home", "away", "game_round", "start", "duration", "elo_diff", "hfa"),
    *("margin_sd", "total_sd", "mu", "tau"),
)


def _markets(rng, games: Games, day: int) -> Markets:
    """1 moneyline, 2-3 spreads, 2-3 totals per game: lines, fair prices, outcomes, times."""
    count = len(games.league)
    n_spread = rng.integers(2, 4, count)
    n_total = rng.integers(2, 4, count)
    per_game = 1 + n_spread + n_total
    game = np.repeat(np.arange(count), per_game)
    markets = len(game)
    league, mu, tau = games.league[game], games.mu[game], games.tau[game]
    slot_in_game = np.arange(markets) - np.repeat(np.cumsum(per_game) - per_game, per_game)
    kind = np.where(slot_in_game == 0, 0, np.where(slot_in_game <= n_spread[game], 1, 2))
    line_rank = np.where(kind == 1, slot_in_game - 1, slot_in_game - 1 - n_spread[game])
    offsets = np.array([0, 2, -2])[np.clip(line_rank, 0, 2)]
    fixed = np.array([LEAGUES[i].fixed_spread for i in league])
    spread_step = np.array([LEAGUES[i].spread_step for i in league])
    total_step = np.array([LEAGUES[i].total_step for i in league])
    favourite_home = mu >= 0
    base_spread = np.where(fixed, 1, np.floor(np.abs(mu)).astype(np.int64))
    spread_off = np.where(fixed, np.abs(offsets) // 2 + (offsets < 0), offsets)  # 1.5 2.5 3.5
    spread_line = base_spread + spread_step * spread_off
    spread_line = np.where(spread_line < 0, base_spread + 4 * spread_step, spread_line)
    total_line = np.floor(tau).astype(np.int64) + total_step * offsets
    line10 = np.where(kind == 0, 0, np.where(kind == 1, spread_line, total_line) * 10 + 5)
    direction = np.where((kind == 1) & ~favourite_home, -1.0, 1.0)
    scale = np.where(kind == 2, games.total_sd[game], games.margin_sd[game])
    location = np.where(kind == 2, tau, direction * mu)
    m1, m2, t1, t2 = games.m1[game], games.m2[game], games.t1[game], games.t2[game]
    final = np.where(kind == 2, tau + t1 + t2, direction * (mu + m1 + m2))
    half = np.where(kind == 2, tau + t1, direction * (mu + m1))
    line = line10 / 10.0
    z = (location - line) / scale
    z_inplay = (half - line) / (scale / math.sqrt(2)) + rng.normal(0, 0.1, markets)

    start = games.start[game]
    opens = games.opens[game] + np.where(kind == 0, 0, rng.integers(0, 6 * 3600, markets))
    close = start + games.duration[game]
    late_settle = rng.random(markets) < 0.03
    settle = close + np.where(
        late_settle, rng.integers(DAY, 5 * DAY, markets), rng.integers(300, 2700, markets)
    )
    return Markets(
        market_id=day * 100_000 + np.arange(markets, dtype=np.int64),
        game=game,
        kind=kind,
        line10=line10,
        favourite_home=favourite_home,
        direction=direction,
        z=z,
        z_inplay=z_inplay,
        outcome=(final > line).astype(np.int64),
        start=start,
        opens=opens,
        close=close,
        settle=settle,
    )


def _price_versions(rng, m: Markets) -> Prices:
    """1-3 price versions before the game (the first at the opening), one in play."""
    markets = len(m.market_id)
    n_pre = rng.integers(1, 4, markets)
    fractions = np.sort(rng.uniform(0.05, 0.95, (markets, 3)), axis=1)
    fractions[:, 0] = 0.0
    pre_times = m.opens[:, None] + (fractions * (m.start - m.opens)[:, None]).astype(np.int64)
    noise = np.empty((markets, 3))
    noise[:, 0] = rng.normal(0, 0.2, markets)
    for k in (1, 2):
        noise[:, k] = 0.6 * noise[:, k - 1] + 0.8 * rng.normal(0, 0.2, markets)
    mid_pre = ndtr(m.z[:, None] + noise)
    mid_inplay = ndtr(m.z_inplay)
    spread_cents = np.where(m.kind == 0, rng.integers(1, 3, markets), rng.integers(2, 5, markets))
    duration = m.close - m.start
    inplay_time = m.start + duration // 2 + rng.integers(-300, 300, markets)
    version_times = np.full((markets, 4), NONE, dtype=np.int64)
    mids = np.empty((markets, 4))
    is_pre = np.arange(4)[None, :] < n_pre[:, None]
    version_times[:, :3] = np.where(is_pre[:, :3], pre_times, NONE)
    version_times[np.arange(markets), n_pre] = inplay_time
    mids[:, :3] = mid_pre
    mids[:, 3] = mid_inplay
    mids[np.arange(markets), n_pre] = mid_inplay
    bid = np.clip(np.round(mids * 100 - spread_cents[:, None] / 2), 1, 98).astype(np.int64)
    ask = np.clip(bid + spread_cents[:, None], bid + 1, 99)
    bid = np.where(version_times == NONE, bid[np.arange(markets), n_pre][:, None], bid)
    ask = np.where(version_times == NONE, ask[np.arange(markets), n_pre][:, None], ask)
    return Prices(n_pre, version_times, bid, ask, base_volume=rng.integers(200, 5000, markets))


def _market_rows(date: dt.date, games: Games, m: Markets, prices: Prices) -> dict:
    """The rows of raw.markets: the price versions, closed, settled."""
    n_pre = prices.n_pre
    n_versions = n_pre + 3
    mrow = np.repeat(np.arange(len(m.market_id)), n_versions)
    vno = np.arange(len(mrow)) - np.repeat(np.cumsum(n_versions) - n_versions, n_versions)
    price_col = np.minimum(vno, n_pre[mrow])
    is_closed = vno == n_pre[mrow] + 1
    is_settled = vno == n_pre[mrow] + 2
    mv_start = np.where(
        is_settled,
        m.settle[mrow],
        np.where(is_closed, m.close[mrow], prices.version_times[mrow, np.minimum(vno, 3)]),
    )
    mv_version, mv_end = segmented_versions(mrow, mv_start)
    yes_bid = prices.bid[mrow, price_col]
    yes_ask = prices.ask[mrow, price_col]
    tickers = _tickers(date, games, m)
    volume = prices.base_volume[mrow] * (1 + 0.9 * np.minimum(vno, n_pre[mrow]))
    return {
        "market_key": m.market_id[mrow] * 10 + mv_version,
        "market_id": m.market_id[mrow],
        "ticker": tickers[mrow],
        "league": games.league[m.game][mrow],
        "market_type": m.kind[mrow],
        "event_start_ts": m.start[mrow],
        "close_ts": m.close[mrow],
        "yes_bid": yes_bid,
        "yes_ask": yes_ask,
        "no_bid": 100 - yes_ask,
        "no_ask": 100 - yes_bid,
        "volume": volume.astype(np.int64),
        "status": np.where(is_settled, 2, np.where(is_closed, 1, 0)),
        "settlement_value": np.where(is_settled, m.outcome[mrow], -1),
        "start": mv_start,
        "end": mv_end,
        "row_version": mv_version,
    }


def _predictions(rng, games: Games, m: Markets, prices: Prices) -> tuple[dict, dict, Forecasts]:
    """Each model's predictions, twice before the game (early, and in the last stretch), and
    the edges they give against the market's mid then."""
    markets = len(m.market_id)
    life = m.start - m.opens
    p_time = np.empty((markets, 3, 2), dtype=np.int64)
    p_time[:, :, 0] = m.opens[:, None] + (rng.uniform(0.02, 0.5, (markets, 3)) * life[:, None])
    p_time[:, :, 1] = (m.opens + life // 2)[:, None] + (
        rng.uniform(0, 1, (markets, 3)) * (life // 2 - 900)[:, None]
    ).astype(np.int64)
    z_model = m.z[:, None, None] + rng.normal(0, 0.05, (markets, 3, 2))
    # The legacy model ignores home advantage (so it leans to away sides) and is noisy.
    hfa = games.hfa[m.game]
    home_lean = np.where(m.kind == 2, 0.0, 0.0036 * hfa * m.direction)
    z_model[:, NOISY, :] += (rng.normal(0, 0.5, markets) - home_lean)[:, None] + rng.normal(
        0, 0.08, (markets, 2)
    )
    prob = ndtr(z_model)
    logit = np.log(prob[:, OVERCONFIDENT, :]) - np.log1p(-prob[:, OVERCONFIDENT, :])
    prob[:, OVERCONFIDENT, :] = 1 / (1 + np.exp(-2.5 * logit))
    p4 = np.clip(np.round(prob * 10_000), 1, 9_999).astype(np.int64)
    flat_rows = np.repeat(np.arange(markets), 6)
    flat_time = p_time.reshape(-1)
    p_bid = lookup(prices.version_times, prices.bid, flat_rows, flat_time).reshape(markets, 3, 2)
    p_ask = lookup(prices.version_times, prices.ask, flat_rows, flat_time).reshape(markets, 3, 2)
    model_index = np.tile(np.repeat(np.arange(3), 2), markets)
    market_id = m.market_id[flat_rows]
    prediction_id = market_id * 100 + model_index * 10 + np.tile([0, 1], markets * 3)
    mid_e3 = (p_bid + p_ask).reshape(-1) * 5  # the YES mid in 1e-3 units
    elo_diff10 = np.round(games.elo_diff[m.game][flat_rows] * 10).astype(np.int64)
    predictions = {
        "prediction_id": prediction_id,
        "model_id": MODEL_IDS[model_index],
        "market_id": market_id,
        "predicted_prob": p4.reshape(-1),
        "features": _features(elo_diff10, hfa[flat_rows], mid_e3),
        "prediction_timestamp": flat_time,
    }
    edge_version, edge_end = segmented_versions(flat_rows * 3 + model_index, flat_time)
    edges = {
        "edge_key": prediction_id,
        "market_id": market_id,
        "model_id": MODEL_IDS[model_index],
        "predicted_prob": p4.reshape(-1),
        "market_price": mid_e3,
        "edge": p4.reshape(-1) - mid_e3 * 10,
        "confidence": MODEL_CONFIDENCE[model_index] + rng.integers(-500, 500, markets * 6),
        "start": flat_time,
        "end": edge_end,
        "row_version": edge_version,
    }
    return predictions, edges, Forecasts(p_time, p4, p_bid, p_ask)


def _assignments(rng, world: World, games: Games, m: Markets) -> tuple[dict, np.ndarray]:
    """A/B assignments, balanced within league x market type strata, at the market's opening;
    with each market's variant per experiment (-1: not assigned)."""
    markets = len(m.market_id)
    stratum = games.league[m.game] * 3 + m.kind
    variant = np.full((markets, len(EXPERIMENTS)), -1)
    assign_rows, assign_exp = [], []
    for e in range(len(EXPERIMENTS)):
        eligible = np.nonzero(m.opens >= world.experiment_start(e))[0]
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
    assignments = {
        "assignment_id": m.market_id[a_rows] * 10 + a_exp,
        "experiment_name": a_exp,
        "market_id": m.market_id[a_rows],
        "variant": variant[a_rows, a_exp],
        "stratification_key": stratum[a_rows],
        "assigned_at": m.opens[a_rows],
    }
    return assignments, variant


def _eligible_strategies(variant: np.ndarray, day_index: int) -> np.ndarray:
    """Which strategies may trade which market (markets, strategies): the experiments' arms by
    their variant, the deprecated strategy until its day."""
    eligible = np.zeros((len(variant), N_STRATEGIES), bool)
    eligible[:, 4:8] = True
    eligible[:, 0] = variant[:, 0] == 0
    eligible[:, 1] = variant[:, 0] == 1
    eligible[:, 2] = variant[:, 1] != 1  # control, or not in the A/A experiment (before it)
    eligible[:, 3] = variant[:, 1] == 1
    eligible[:, 8] = day_index < DEPRECATED_UNTIL_DAY
    return eligible


def _tickers(date: dt.date, games: Games, m: Markets) -> np.ndarray:
    stamp = date.strftime("%Y%m%d")
    out = []
    for i in range(len(m.game)):
        g = m.game[i]
        lg = LEAGUES[games.league[g]]
        h, a = lg.teams[games.home[g]], lg.teams[games.away[g]]
        game_round = games.game_round[g]
        base = f"{lg.name}-{stamp}-{a}{h}" + (f"G{game_round + 1}" if game_round else "")
        k = m.kind[i]
        if k == 0:
            out.append(f"{base}-WIN-{h}")
        elif k == 1:
            fav = h if m.favourite_home[i] else a
            out.append(f"{base}-SPREAD-{fav}{m.line10[i] // 10}.5")
        else:
            out.append(f"{base}-TOTAL-{m.line10[i] // 10}.5")
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
