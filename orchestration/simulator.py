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

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import math
import queue
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from scipy.special import ndtr

from orchestration import database

# --- constants ---------------------------------------------------------------------------------

DAY = 86_400
NONE = np.int64(2**62)  # "no end" for SCD versions; never a real timestamp
BAD_ID_BASE = 9_000_000_000_000_000  # ids of add_bad_rows: far above any simulated id, < 2**53
LEAD_DAYS = 8  # a game day's earliest event (a market opening) is at most this many days before
TAIL_DAYS = 13  # ... and its latest (a late trade after a late settlement) this many after
FIRST_DAY_OFFSET = 8  # the first game day is this many days after history_start
EXPERIMENT_2_DELAY_DAYS = 14  # the A/A experiment starts two weeks into the history
DEPRECATED_UNTIL_DAY = 45  # the deprecated strategy trades the first 45 game days only
MAX_ENTRIES = 4  # scale-in entries per position at most
LATE_SHARE = 0.03  # trades that replicate late
LATE_MIN, LATE_MAX = 3_600, 5 * DAY
TRADES_PER_GAME = 91.5  # measured; turns a trade count into games per day
DEPRECATED_TRADE_FACTOR = 1.11  # ... and 11% more while the deprecated strategy still trades
RAW_TABLES = database.RAW_TABLES
BULK_TABLES = (
    "markets",
    "positions",
    "trades",
    "edges",
    "model_predictions",
    "ab_test_assignments",
)
SCD_TABLES = {"markets": "market_key", "positions": "position_key", "edges": "edge_key"}
ET = ZoneInfo("America/New_York")
_UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class SimulationError(database.DatabaseError):
    """The simulator refuses (foreign data, a window in the future, nothing to continue)."""


# --- the world: leagues ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class League:
    name: str
    teams: tuple[str, ...]
    annual_games: int  # games a season the desk covers
    seasons: tuple[tuple[int, int, float], ...]  # (from mmdd, to mmdd, intensity)
    weekday_weights: tuple[float, ...]  # Monday .. Sunday
    slots: dict[str, tuple[tuple[int, float], ...]]  # "weekday"/"sat"/"sun"/"mon".. -> (hhmm ET, w)
    margin_sd: float  # sd of the home margin
    total_mean: float
    total_sd: float
    spread_step: int  # distance between spread lines (points)
    total_step: int
    fixed_spread: bool  # puck line / run line: spreads at 1.5, 2.5, 3.5
    hfa_elo: int  # home advantage in Elo points
    duration_min: int
    lead_days: tuple[float, float]  # markets open this many days before the game
    rollover_month: int  # a season starts in this month (ratings are per season)

    def slot_table(self, weekday: int) -> tuple[np.ndarray, np.ndarray]:
        key = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[weekday]
        if key not in self.slots:
            key = {"sat": "sat", "sun": "sun"}.get(key, "weekday")
        slots = self.slots.get(key) or self.slots["weekday"]
        hhmm = np.array([s[0] for s in slots])
        weights = np.array([s[1] for s in slots], dtype=float)
        return (hhmm // 100) * 60 + hhmm % 100, weights / weights.sum()


def _teams(text: str) -> tuple[str, ...]:
    return tuple(text.split())


LEAGUES: tuple[League, ...] = (
    League(
        "NFL",
        _teams(
            "ARI ATL BAL BUF CAR CHI CIN CLE DAL DEN DET GB HOU IND JAX KC LV LAC LAR MIA MIN "
            "NE NO NYG NYJ PHI PIT SF SEA TB TEN WAS"
        ),
        285,
        ((905, 1231, 1.0), (101, 107, 1.0), (108, 210, 0.25)),
        (0.07, 0.0, 0.0, 0.07, 0.005, 0.05, 0.8),
        {
            "weekday": ((2015, 1.0),),
            "fri": ((1500, 1.0),),
            "sat": ((1630, 0.5), (2015, 0.5)),
            "sun": ((1300, 0.62), (1605, 0.1), (1625, 0.18), (2020, 0.1)),
        },
        13.5,
        45.0,
        13.5,
        3,
        3,
        False,
        48,
        195,
        (5.0, 7.0),
        7,
    ),
    League(
        "NBA",
        _teams(
            "ATL BOS BKN CHA CHI CLE DAL DEN DET GSW HOU IND LAC LAL MEM MIA MIL MIN NOP NYK OKC "
            "ORL PHI PHX POR SAC SAS TOR UTA WAS"
        ),
        1320,
        ((1021, 1231, 1.0), (101, 413, 1.0), (418, 618, 0.35)),
        (1.0, 1.0, 1.2, 0.7, 1.1, 1.0, 0.9),
        {
            "weekday": (
                (1900, 0.25),
                (1930, 0.3),
                (2000, 0.15),
                (2100, 0.05),
                (2200, 0.2),
                (2230, 0.05),
            ),
            "sat": (
                (1300, 0.05),
                (1530, 0.15),
                (1800, 0.1),
                (1930, 0.3),
                (2000, 0.15),
                (2200, 0.2),
                (2230, 0.05),
            ),
            "sun": (
                (1300, 0.1),
                (1530, 0.2),
                (1800, 0.15),
                (1930, 0.25),
                (2100, 0.15),
                (2200, 0.15),
            ),
        },
        12.0,
        226.0,
        18.0,
        3,
        5,
        False,
        70,
        140,
        (1.0, 2.5),
        7,
    ),
    League(
        "MLB",
        _teams(
            "ARI ATH ATL BAL BOS CHC CWS CIN CLE COL DET HOU KC LAA LAD MIA MIL MIN NYM NYY PHI "
            "PIT SD SF SEA STL TB TEX TOR WSH"
        ),
        2470,
        ((326, 928, 1.0), (930, 1101, 0.2)),
        (0.75, 1.0, 1.0, 0.85, 1.05, 1.05, 1.05),
        {
            "weekday": (
                (1305, 0.1),
                (1610, 0.05),
                (1840, 0.12),
                (1905, 0.2),
                (1910, 0.2),
                (1940, 0.08),
                (2010, 0.08),
                (2140, 0.07),
                (2210, 0.1),
            ),
            "sat": ((1305, 0.2), (1610, 0.25), (1905, 0.25), (1910, 0.1), (2210, 0.2)),
            "sun": ((1305, 0.3), (1335, 0.25), (1410, 0.1), (1610, 0.15), (1910, 0.2)),
        },
        4.2,
        8.6,
        4.3,
        1,
        1,
        True,
        24,
        165,
        (1.0, 2.0),
        1,
    ),
    League(
        "NHL",
        _teams(
            "ANA BOS BUF CGY CAR CHI COL CBJ DAL DET EDM FLA LAK MIN MTL NSH NJD NYI NYR OTT PHI "
            "PIT SJS SEA STL TBL TOR UTA VAN VGK WSH WPG"
        ),
        1400,
        ((1007, 1231, 1.0), (101, 417, 1.0), (419, 620, 0.35)),
        (0.8, 1.2, 0.9, 1.2, 0.8, 1.3, 0.8),
        {
            "weekday": (
                (1900, 0.45),
                (1930, 0.15),
                (2000, 0.1),
                (2100, 0.1),
                (2200, 0.15),
                (2230, 0.05),
            ),
            "sat": ((1300, 0.1), (1500, 0.1), (1900, 0.4), (1930, 0.1), (2000, 0.1), (2200, 0.2)),
            "sun": ((1230, 0.1), (1500, 0.2), (1700, 0.2), (1900, 0.3), (2000, 0.2)),
        },
        2.4,
        6.1,
        2.4,
        1,
        1,
        True,
        35,
        150,
        (1.0, 2.0),
        7,
    ),
    League(
        "NCAAF",
        _teams(
            "ALA AUB ARK UGA FLA LSU MISS MSST MIZZ SC TENN TAMU UK VAN OU TEX OSU MICH PSU WIS "
            "IOWA MINN NEB ILL IND PUR MSU RUTG MD NW UCLA USC ORE WASH CLEM FSU MIA UNC NCST "
            "DUKE UVA VT LOU PITT SYR BC WAKE GT CAL STAN SMU BAY TCU TTU OKST KSU KU ISU WVU "
            "CIN UCF HOU BYU UTAH ARIZ ASU COLO ND BSU"
        ),
        850,
        ((828, 1207, 1.0), (1213, 1231, 0.3), (101, 120, 0.3)),
        (0.0, 0.02, 0.02, 0.04, 0.05, 0.87, 0.0),
        {
            "weekday": ((1900, 0.3), (1930, 0.4), (2000, 0.3)),
            "sat": ((1200, 0.3), (1530, 0.3), (1900, 0.15), (1930, 0.15), (2230, 0.1)),
        },
        16.0,
        53.0,
        16.0,
        4,
        4,
        False,
        55,
        205,
        (4.0, 7.0),
        7,
    ),
    League(
        "NCAAB",
        _teams(
            "DUKE UNC UK KU GONZ VILL UCONN ARIZ UCLA MSU MICH PUR IU ILL WIS IOWA OSU MD BAY TTU "
            "TEX HOU TENN AUB ALA ARK FLA UGA LSU MISS CREI MARQ XAV PROV SJU HALL CIN MEM SDSU "
            "USU NEV BSU UNM SMC BYU UTAH ORE WASH USC STAN CAL COLO VT UVA LOU SYR PITT WAKE "
            "CLEM FSU MIA GT NCST ND BC DAY VCU RICH DAV WICH DRKE BRAD"
        ),
        3000,
        ((1103, 1231, 1.0), (101, 315, 1.0), (317, 407, 0.4)),
        (0.7, 1.0, 1.0, 0.8, 0.5, 2.4, 0.6),
        {
            "weekday": ((1830, 0.15), (1900, 0.45), (2000, 0.15), (2100, 0.25)),
            "sat": ((1200, 0.15), (1400, 0.2), (1600, 0.2), (1800, 0.15), (2000, 0.2), (2100, 0.1)),
            "sun": ((1200, 0.2), (1400, 0.3), (1600, 0.3), (1800, 0.2)),
        },
        11.0,
        142.0,
        15.0,
        3,
        4,
        False,
        85,
        125,
        (1.0, 3.0),
        7,
    ),
)
LEAGUE_NAMES = [league.name for league in LEAGUES]
# Spread of team strength (Elo points): college is far more lopsided than the pros, baseball
# and hockey games are closest to coin flips.
RATING_SD = {"NFL": 105, "NBA": 125, "MLB": 60, "NHL": 70, "NCAAF": 190, "NCAAB": 170}
MARKET_TYPES = ["moneyline", "spread", "total"]
STRATA = [f"{league}|{kind}" for league in LEAGUE_NAMES for kind in MARKET_TYPES]


def _season_factor(league: League, month_day: np.ndarray) -> np.ndarray:
    factor = np.zeros(month_day.shape)
    for start, stop, intensity in league.seasons:
        factor = np.where((month_day >= start) & (month_day <= stop), intensity, factor)
    return factor


@lru_cache(maxsize=1)
def _league_normalisers() -> np.ndarray:
    """Per league: the mean of season intensity x weekday weight over a year."""
    days = [dt.date(2025, 7, 1) + dt.timedelta(days=i) for i in range(365)]
    month_day = np.array([d.month * 100 + d.day for d in days])
    weekday = np.array([d.weekday() for d in days])
    return np.array(
        [
            np.mean(_season_factor(lg, month_day) * np.array(lg.weekday_weights)[weekday])
            for lg in LEAGUES
        ]
    )


def _expected_games(games_per_day: float, days: np.ndarray) -> np.ndarray:
    """Expected games per (day, league) for day ordinals `days`: shape (len(days), leagues)."""
    dates = [dt.date.fromordinal(int(d)) for d in days]
    month_day = np.array([d.month * 100 + d.day for d in dates])
    weekday = np.array([d.weekday() for d in dates])
    annual = np.array([lg.annual_games for lg in LEAGUES], dtype=float)
    share = annual / annual.sum()
    out = np.empty((len(days), len(LEAGUES)))
    for i, lg in enumerate(LEAGUES):
        weight = _season_factor(lg, month_day) * np.array(lg.weekday_weights)[weekday]
        out[:, i] = games_per_day * share[i] * weight / _league_normalisers()[i]
    return out


# --- the world: models, strategies, experiments ---------------------------------------------

NOISY, OVERCONFIDENT, CALIBRATED = 0, 1, 2
MODELS = (  # model_id, name, version, status, config
    (
        1,
        "elo",
        "1.0",
        "deprecated",
        {
            "family": "elo",
            "temperature": 1.0,
            "k_factor": 20,
            "features": ["elo_diff"],
            "calibration": None,
        },
    ),
    (
        2,
        "elo",
        "2.0",
        "active",
        {
            "family": "elo",
            "temperature": 0.55,
            "k_factor": 28,
            "features": ["elo_diff", "home_advantage", "market_mid"],
            "calibration": None,
        },
    ),
    (
        3,
        "elo",
        "2.1",
        "active",
        {
            "family": "elo",
            "temperature": 1.0,
            "k_factor": 28,
            "features": ["elo_diff", "home_advantage", "market_mid"],
            "calibration": "isotonic",
        },
    ),
)
MODEL_IDS = np.array([m[0] for m in MODELS])
MODEL_CONFIDENCE = np.array([6000, 9000, 8000])  # 1e-4 units, per model index


@dataclasses.dataclass(frozen=True)
class Strategy:
    strategy_id: int
    name: str
    version: str
    status: str
    model: int  # model index
    min_edge: float
    max_contracts: int
    scale_in: int
    take_profit: float | None

    @property
    def config(self) -> dict:
        model = MODELS[self.model]
        return {
            "min_edge": self.min_edge,
            "max_position_contracts": self.max_contracts,
            "scale_in_entries": self.scale_in,
            "exit_rule": "take_profit" if self.take_profit else "hold_to_settlement",
            "take_profit": self.take_profit,
            "model_name": model[1],
            "model_version": model[2],
        }


STRATEGIES = (
    Strategy(1, "value_hunter", "1.0", "testing", NOISY, 0.02, 200, 2, None),
    Strategy(2, "value_hunter", "1.1", "testing", CALIBRATED, 0.06, 200, 2, None),
    Strategy(3, "steady_edge", "3.0", "active", CALIBRATED, 0.03, 150, 3, 0.12),
    Strategy(4, "steady_edge", "3.0.1", "testing", CALIBRATED, 0.03, 150, 3, 0.12),
    Strategy(5, "aggressive_edge", "1.0", "active", OVERCONFIDENT, 0.03, 500, 3, 0.15),
    Strategy(6, "closing_value", "1.2", "active", CALIBRATED, 0.06, 300, 4, None),
    Strategy(7, "live_scalper", "2.0", "active", OVERCONFIDENT, 0.04, 100, 2, 0.08),
    Strategy(8, "favorite_fade", "1.0", "active", NOISY, 0.04, 250, 3, None),
    Strategy(9, "contrarian", "0.9", "deprecated", NOISY, 0.08, 200, 2, 0.10),
    Strategy(10, "kelly_sizer", "0.1", "draft", CALIBRATED, 0.05, 400, 2, None),
)
N_STRATEGIES = len(STRATEGIES)
STRATEGY_IDS = np.array([s.strategy_id for s in STRATEGIES])
STRATEGY_MODEL = np.array([s.model for s in STRATEGIES])
STRATEGY_MIN_EDGE = np.array([round(s.min_edge * 10_000) for s in STRATEGIES])  # 1e-4 units
STRATEGY_CAP = np.array([s.max_contracts // s.scale_in for s in STRATEGIES])
STRATEGY_SCALE_IN = np.array([s.scale_in for s in STRATEGIES])
STRATEGY_TP = np.array([round((s.take_profit or 0) * 100) for s in STRATEGIES])  # cents, 0 = hold
EXPERIMENTS = (  # name, control index, treatment index, start delay (days)
    ("value_hunter_model_upgrade", 0, 1, 0),
    ("steady_edge_aa", 2, 3, EXPERIMENT_2_DELAY_DAYS),
)
VARIANTS = ["control", "treatment"]


# --- the world: one game day ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class World:
    seed: int
    games_per_day: float
    history_start: int  # unix seconds, a UTC midnight

    @property
    def first_day(self) -> int:
        return _day_of(self.history_start) + FIRST_DAY_OFFSET

    def experiment_start(self, index: int) -> int:
        return self.history_start + EXPERIMENTS[index][3] * DAY


def _day_of(unix_seconds: int) -> int:
    return int(unix_seconds) // DAY + _UNIX_EPOCH_ORDINAL


@lru_cache(maxsize=4096)
def _et_midnight(day: int) -> int:
    """Unix seconds of 00:00 US/Eastern on day `day`, at that day's noon offset."""
    date = dt.date.fromordinal(day)
    offset = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ET).utcoffset()
    return (day - _UNIX_EPOCH_ORDINAL) * DAY - int(offset.total_seconds())


@lru_cache(maxsize=512)
def _ratings(seed: int, league: int, season: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 1_000_003, league, season])
    spread = RATING_SD[LEAGUES[league].name]
    return 1500.0 + spread * rng.standard_normal(len(LEAGUES[league].teams))


def _segmented_versions(owner: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows grouped by owner (in time order within an owner): row_version and true end."""
    n = len(owner)
    end = np.full(n, NONE, dtype=np.int64)
    if n == 0:
        return np.zeros(0, np.int64), end
    same = owner[1:] == owner[:-1]
    end[:-1] = np.where(same, start[1:], NONE)
    first = np.ones(n, bool)
    first[1:] = ~same
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return np.arange(n) - group_start + 1, end


def _lookup(times: np.ndarray, values: np.ndarray, rows: np.ndarray, at: np.ndarray) -> np.ndarray:
    """values[row, version in force at `at`] where times[row] are version starts (NONE padded)."""
    index = (times[rows] <= at[:, None]).sum(axis=1) - 1
    return values[rows, np.maximum(index, 0)]


def generate_day(world: World, day: int) -> dict[str, dict[str, np.ndarray]]:
    """Every row of game day `day` over its whole lifecycle (not yet cut to a window).

    SCD tables carry `start` and `end` (true end, NONE when never superseded); trades carry
    `available` (when the replication delivers them).
    """
    rng = np.random.default_rng([world.seed, day])
    date = dt.date.fromordinal(day)
    midnight = _et_midnight(day)
    expected = _expected_games(world.games_per_day, np.array([day]))[0]
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
        ratings = _ratings(world.seed, li, season)
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
    mv_version, mv_end = _segmented_versions(mrow, mv_start)
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
    p_bid = _lookup(version_times, bid, flat_rows, flat_time).reshape(markets, 3, 2)
    p_ask = _lookup(version_times, ask, flat_rows, flat_time).reshape(markets, 3, 2)
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
    edge_version, edge_end = _segmented_versions(flat_rows * 3 + model_index, flat_time)
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
    positions_out, trades_out = _trade(
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


def _trade(
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
        b = _lookup(version_times, bid, mi, at)
        a = _lookup(version_times, ask, mi, at)
        return np.where(side_yes, b, 100 - a)

    def side_ask(at):
        b = _lookup(version_times, bid, mi, at)
        a = _lookup(version_times, ask, mi, at)
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
    t_fees = np.where(t_action == 2, 0, _fee_cents(t_qty, t_price))
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
    pv_version, pv_end = _segmented_versions(pv_owner, pv_start)
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


def _fee_cents(quantity: np.ndarray, price_cents: np.ndarray) -> np.ndarray:
    """Kalshi's fee, ceil(0.07 x C x P x (1 - P)) to the cent, in integer arithmetic."""
    return (7 * quantity * price_cents * (100 - price_cents) + 9_999) // 10_000


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


# --- cutting a day to a window ----------------------------------------------------------------


def cut_to_window(rows: dict[str, dict[str, np.ndarray]], a: int, b: int):
    """The rows the replication delivers in [a, b): inserts per table, and SCD updates."""
    inserts: dict[str, dict[str, np.ndarray]] = {}
    updates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for table, columns in rows.items():
        if table in SCD_TABLES:
            start, end = columns["start"], columns["end"]
            take = (start >= a) & (start < b)
            fix = (start < a) & (end >= a) & (end < b)
            if fix.any():
                updates[table] = (columns[SCD_TABLES[table]][fix], end[fix])
            cut = {name: values[take] for name, values in columns.items()}
            cut["end"] = np.where(cut["end"] < b, cut["end"], NONE)
        else:
            stamp = {
                "trades": "available",
                "model_predictions": "prediction_timestamp",
                "ab_test_assignments": "assigned_at",
            }[table]
            take = (columns[stamp] >= a) & (columns[stamp] < b)
            cut = {name: values[take] for name, values in columns.items()}
        if len(next(iter(cut.values()))):
            inserts[table] = cut
    return inserts, updates


# --- binary COPY -------------------------------------------------------------------------------

_PG_EPOCH = 946_684_800  # 2000-01-01 in unix seconds
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
# (column, kind, argument): kinds int8, int4, bool, ts, num (argument: scale), text, cat
# (argument: the labels), json. SCD tables take row_current_ind and row_end_ts from `end`.
_SCD_TAIL = [
    ("row_current_ind", "current", None),
    ("row_start_ts", "ts", "start"),
    ("row_end_ts", "end", None),
    ("row_version", "int4", None),
]
LAYOUTS = {
    "markets": [
        ("market_key", "int8", None),
        ("market_id", "int8", None),
        ("ticker", "text", None),
        ("league", "cat", LEAGUE_NAMES),
        ("market_type", "cat", MARKET_TYPES),
        ("event_start_ts", "ts", None),
        ("close_ts", "ts", None),
        ("yes_bid", "num", 2),
        ("yes_ask", "num", 2),
        ("no_bid", "num", 2),
        ("no_ask", "num", 2),
        ("volume", "int8", None),
        ("status", "cat", ["open", "closed", "settled"]),
        ("settlement_value", "num", 0),
        *_SCD_TAIL,
    ],
    "positions": [
        ("position_key", "int8", None),
        ("position_id", "int8", None),
        ("market_id", "int8", None),
        ("strategy_id", "int8", None),
        ("model_id", "int8", None),
        ("side", "cat", ["yes", "no"]),
        ("quantity", "num", 0),
        ("entry_price", "num", 4),
        ("current_price", "num", 2),
        ("unrealized_pnl", "num", 4),
        ("status", "cat", ["open", "monitoring", "exited", "settled"]),
        *_SCD_TAIL,
    ],
    "trades": [
        ("trade_id", "int8", None),
        ("position_id", "int8", None),
        ("action", "cat", ["entry", "exit", "settlement"]),
        ("quantity", "num", 0),
        ("price", "num", 2),
        ("fees", "num", 2),
        ("execution_timestamp", "ts", None),
    ],
    "edges": [
        ("edge_key", "int8", None),
        ("market_id", "int8", None),
        ("model_id", "int8", None),
        ("predicted_prob", "num", 4),
        ("market_price", "num", 3),
        ("edge", "num", 4),
        ("confidence", "num", 4),
        *_SCD_TAIL,
    ],
    "model_predictions": [
        ("prediction_id", "int8", None),
        ("model_id", "int8", None),
        ("market_id", "int8", None),
        ("predicted_prob", "num", 4),
        ("features", "json", None),
        ("prediction_timestamp", "ts", None),
    ],
    "ab_test_assignments": [
        ("assignment_id", "int8", None),
        ("experiment_name", "cat", [e[0] for e in EXPERIMENTS]),
        ("market_id", "int8", None),
        ("variant", "cat", VARIANTS),
        ("stratification_key", "cat", STRATA),
        ("assigned_at", "ts", None),
    ],
}


def encode_binary(table: str, columns: dict[str, np.ndarray]) -> bytes:
    """The rows of `columns` as the body of a binary COPY into raw.<table> (no header)."""
    layout = LAYOUTS[table]
    n = len(next(iter(columns.values())))
    fields: list[tuple[str, str]] = [("count", ">i2")]
    fills: list[tuple[str, np.ndarray | int]] = [("count", len(layout))]
    variable: list[tuple[str, int, np.ndarray]] = []  # (data field, width, bytes used per row)
    for i, (name, kind, arg) in enumerate(layout):
        length, data = f"l{i}", f"v{i}"
        if kind in ("int8", "ts", "end"):
            source = columns[arg] if kind == "ts" and arg else columns.get(name)
            if kind == "end":
                source = columns["end"]
            values = np.asarray(source, np.int64)
            null = values == NONE if kind == "end" else None
            micros = (values - _PG_EPOCH) * 1_000_000 if kind != "int8" else values
            fields += [(length, ">i4"), (data, ">i8")]
            fills += [(data, micros)]
            if null is not None and null.any():
                fills.append((length, np.where(null, -1, 8)))
                variable.append((data, 8, np.where(null, 0, 8)))
            else:
                fills.append((length, 8))
        elif kind == "int4":
            fields += [(length, ">i4"), (data, ">i4")]
            fills += [(length, 4), (data, columns[name])]
        elif kind == "current":
            fields += [(length, ">i4"), (data, "u1")]
            fills += [(length, 1), (data, (columns["end"] == NONE).astype(np.uint8))]
        elif kind == "num":
            values = np.asarray(columns[name], np.int64)
            null = values < 0 if name == "settlement_value" else None
            magnitude = np.abs(values)
            integer, fraction = magnitude // 10**arg, magnitude % 10**arg
            n_int = max(1, -(-len(str(int(integer.max(initial=0)))) // 4))
            digits = n_int + (1 if arg else 0)
            width = 8 + 2 * digits
            fields += [
                (length, ">i4"),
                (f"{data}n", ">i2"),
                (f"{data}w", ">i2"),
                (f"{data}s", ">i2"),
                (f"{data}d", ">i2"),
            ]
            fields += [(f"{data}_{k}", ">i2") for k in range(digits)]
            fills += [
                (f"{data}n", digits),
                (f"{data}w", n_int - 1),
                (f"{data}s", np.where(values < 0, 0x4000, 0)),
                (f"{data}d", arg),
            ]
            for k in range(n_int):
                fills.append((f"{data}_{k}", (integer // 10_000 ** (n_int - 1 - k)) % 10_000))
            if arg:
                fills.append((f"{data}_{n_int}", fraction * 10 ** (4 - arg)))
            if null is not None and null.any():
                fills.append((length, np.where(null, -1, width)))
                variable.append((f"{data}n", width, np.where(null, 0, width)))
            else:
                fills.append((length, width))
        elif kind in ("text", "cat", "json"):
            if kind == "cat":
                labels = np.array([label.encode() for label in arg], dtype="S")
                values = labels[columns[name]]
                lengths = np.array([len(label) for label in arg])[columns[name]]
            else:
                values = columns[name]
                if kind == "json":
                    values = np.char.add(b"\x01", values)  # jsonb binary: version 1, then text
                lengths = np.strings.str_len(values)
            width = values.dtype.itemsize
            fields += [(length, ">i4"), (data, f"S{width}")]
            fills += [(length, lengths), (data, values)]
            if (lengths != width).any():
                variable.append((data, width, lengths))
        else:  # pragma: no cover - layouts are fixed above
            raise ValueError(kind)
    dtype = np.dtype(fields)
    rows = np.empty(n, dtype)
    for name, value in fills:
        rows[name] = value
    if not variable:
        return rows.tobytes()
    offsets = {name: dtype.fields[name][1] for name in dtype.names}
    mask = np.ones(n * dtype.itemsize, np.uint8).view(
        np.dtype(
            {
                "names": [v[0] for v in variable],
                "formats": [f"V{v[1]}" for v in variable],
                "offsets": [offsets[v[0]] for v in variable],
                "itemsize": dtype.itemsize,
            }
        )
    )
    for name, width, used in variable:
        keep = (np.arange(width)[None, :] < np.asarray(used)[:, None]).astype(np.uint8)
        mask[name] = keep.view(f"V{width}").reshape(n)
    return rows.view(np.uint8)[mask.view(np.uint8).view(bool)].tobytes()


def _copy(cursor, table: str, body: bytes, freeze: bool) -> None:
    columns = ", ".join(column for column, _, _ in LAYOUTS[table])
    options = "format binary, freeze" if freeze else "format binary"
    stream = io.BytesIO(_COPY_HEADER + body + _COPY_TRAILER)
    cursor.copy_expert(
        f"copy raw.{table} ({columns}) from stdin with ({options})", stream, size=1 << 20
    )


# --- the window load ---------------------------------------------------------------------------


def _days_touching(world: World, a: int, b: int) -> range:
    first = max(world.first_day, _day_of(a) - TAIL_DAYS)
    return range(first, _day_of(b) + LEAD_DAYS + 1)


def _batches(world: World, a: int, b: int, rows_per_batch: int) -> Iterator[tuple]:
    """(inserts per table as COPY bodies, row counts, updates, late trades) per batch of days."""
    pending: dict[str, list] = {}
    updates: dict[str, list] = {}
    counts: dict[str, int] = {}
    late = 0
    size = 0

    def flush():
        bodies = {}
        for table, parts in pending.items():
            merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
            bodies[table] = encode_binary(table, merged)
        batch = (bodies, dict(counts), {t: list(u) for t, u in updates.items()}, late)
        pending.clear()
        updates.clear()
        counts.clear()
        return batch

    for day in _days_touching(world, a, b):
        inserts, fixes = cut_to_window(generate_day(world, day), a, b)
        for table, columns in inserts.items():
            pending.setdefault(table, []).append(columns)
            rows = len(next(iter(columns.values())))
            counts[table] = counts.get(table, 0) + rows
            size += rows
        if "trades" in inserts:
            late += int((inserts["trades"]["execution_timestamp"] < a).sum())
        for table, fix in fixes.items():
            updates.setdefault(table, []).append(fix)
        if size >= rows_per_batch:
            yield flush()
            late, size = 0, 0
    if pending or updates:
        yield flush()


def _load_window(
    cursor, world: World, a: int, b: int, fresh: bool, phases: dict[str, float] | None = None
) -> tuple[dict, dict, int]:
    """Generate and load [a, b); returns rows inserted and updated per table, late trades.

    `phases` gets the seconds spent waiting for generated batches and copying them.
    """
    phases = {} if phases is None else phases
    phases.setdefault("wait_for_generation", 0.0)
    phases.setdefault("copy", 0.0)
    rows = {table: 0 for table in BULK_TABLES}
    updated = {table: 0 for table in SCD_TABLES}
    late = 0
    handoff: queue.Queue = queue.Queue(maxsize=3)
    stop = threading.Event()

    def produce():
        try:
            for batch in _batches(world, a, b, rows_per_batch=600_000):
                while not stop.is_set():
                    try:
                        handoff.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(None)
        except BaseException as error:  # handed to the consumer, raised there
            handoff.put(error)

    producer = threading.Thread(target=produce, name="simulator-generate", daemon=True)
    producer.start()
    pending_updates: dict[str, list] = {}
    try:
        while True:
            mark = time.monotonic()
            batch = handoff.get()
            phases["wait_for_generation"] += time.monotonic() - mark
            if batch is None:
                break
            if isinstance(batch, BaseException):
                raise batch
            bodies, counts, fixes, batch_late = batch
            mark = time.monotonic()
            for table, body in bodies.items():
                _copy(cursor, table, body, freeze=fresh)
                rows[table] += counts[table]
            phases["copy"] += time.monotonic() - mark
            for table, parts in fixes.items():
                pending_updates.setdefault(table, []).extend(parts)
            late += batch_late
    finally:
        stop.set()
        producer.join()
    for table, parts in pending_updates.items():
        keys = np.concatenate([p[0] for p in parts])
        ends = np.concatenate([p[1] for p in parts])
        key = SCD_TABLES[table]
        cursor.execute(
            "create temp table if not exists _precog_scd_end (key bigint, end_ts timestamptz)"
            " on commit drop"
        )
        cursor.execute("truncate _precog_scd_end")
        body = np.empty(
            len(keys), [("count", ">i2"), ("l0", ">i4"), ("k", ">i8"), ("l1", ">i4"), ("e", ">i8")]
        )
        body["count"], body["l0"], body["l1"] = 2, 8, 8
        body["k"], body["e"] = keys, (ends - _PG_EPOCH) * 1_000_000
        cursor.copy_expert(
            "copy _precog_scd_end (key, end_ts) from stdin with (format binary)",
            io.BytesIO(_COPY_HEADER + body.tobytes() + _COPY_TRAILER),
        )
        cursor.execute(
            f"update raw.{table} as target set row_end_ts = fix.end_ts,"
            " row_current_ind = false, loaded_at = now()"
            f" from _precog_scd_end as fix where target.{key} = fix.key"
        )
        updated[table] = cursor.rowcount
    return rows, updated, late


# --- public API ------------------------------------------------------------------------------


@dataclasses.dataclass
class SimulationReport:
    """What a history or an append loaded."""

    kind: str  # "history" or "append"
    seed: int
    games_per_day: float
    window_start: dt.datetime
    window_end: dt.datetime
    rows: dict[str, int]  # rows inserted per raw table
    updated: dict[str, int]  # SCD versions closed by an UPDATE, per table
    late_trades: int  # trades loaded that executed before the window started
    seconds: float
    phases: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per phase

    @property
    def trades(self) -> int:
        return self.rows.get("trades", 0)

    def __str__(self) -> str:
        rows = ", ".join(f"{table} {count}" for table, count in self.rows.items() if count)
        text = (
            f"simulated {self.kind} [{self.window_start:%Y-%m-%d %H:%M}, "
            f"{self.window_end:%Y-%m-%d %H:%M} UTC) seed {self.seed}: {self.trades} trades "
            f"in {self.seconds:.1f} s ({self.trades / max(self.seconds, 1e-9):,.0f} trades/s); "
            f"rows: {rows}"
        )
        if any(self.updated.values()):
            text += "; versions closed: " + ", ".join(
                f"{table} {count}" for table, count in self.updated.items() if count
            )
        if self.kind == "append":
            text += f"; late trades: {self.late_trades}"
        return text


def history_span_days(trades: int) -> int:
    """Days of history for a trade count: ~60 at 20k trades, ~3 years at 10M."""
    return int(np.clip(round(60 * (max(trades, 1) / 20_000) ** 0.467), 14, 1_200))


def plan_world(trades: int, seed: int, end: dt.datetime) -> World:
    """The world (games per day, history start) of a fresh history of ~`trades` trades."""
    end_s = _timestamp(end)
    history_start = (end_s - history_span_days(trades) * DAY) // DAY * DAY
    probe = World(seed, 1.0, history_start)
    days = np.arange(probe.first_day, _day_of(end_s) + 1)
    weight = np.where(days - probe.first_day < DEPRECATED_UNTIL_DAY, DEPRECATED_TRADE_FACTOR, 1)
    expected = (_expected_games(1.0, days).sum(axis=1) * weight).sum() if len(days) else 0.0
    games_per_day = trades / (TRADES_PER_GAME * max(expected, 1e-9))
    return World(seed, float(games_per_day), int(history_start))


def simulate_history(
    trades: int,
    seed: int,
    end: dt.datetime,
    *,
    target: database.Warehouse | None = None,
    replace: bool = False,
) -> SimulationReport:
    """A fresh history of about `trades` trades ending at `end` (tz-aware) in an empty raw, or
    replacing all of raw (imported trades included) when `replace` is set: then the next run
    is a full refresh."""
    if trades <= 0 or seed < 0:
        raise ValueError("trades must be positive and seed non-negative")
    end_s = _timestamp(end)
    world = plan_world(trades, seed, end)
    began = time.monotonic()
    phases: dict[str, float] = {}
    connection = database.connect(target)
    try:
        with connection, connection.cursor() as cursor:
            _lock(cursor)
            cursor.execute("select extract(epoch from now())")
            if end_s > float(cursor.fetchone()[0]) + 300:
                raise SimulationError(
                    f"--end {_iso(end_s)} is in the future: the trading system cannot have "
                    "traded yet; pick an end at or before now"
                )
            # A replaced raw owes the incremental models a full refresh: TRUNCATE gives each
            # table a new file, which they notice (macros/full_refresh.sql).
            _refuse_populated(cursor, replace)
            cursor.execute("set local synchronous_commit = off")
            cursor.execute("set local maintenance_work_mem = '1GB'")
            cursor.execute(
                "truncate "
                + ", ".join(f"raw.{table}" for table in RAW_TABLES)
                + ", precog_meta.simulation"
            )
            rebuild = _drop_indexes(cursor) if trades >= 200_000 else []
            _insert_static(cursor, world)
            rows, updated, late = _load_window(
                cursor, world, world.history_start, end_s, True, phases
            )
            mark = time.monotonic()
            for statement in rebuild:
                cursor.execute(statement)
            phases["indexes"] = time.monotonic() - mark
            mark = time.monotonic()
            cursor.execute(
                "insert into precog_meta.simulation"
                " (seed, games_per_day, history_start, simulated_through, updated_at)"
                " values (%s, %s, to_timestamp(%s), to_timestamp(%s), now())",
                (seed, world.games_per_day, world.history_start, end_s),
            )
        rows.update(
            strategies=len(STRATEGIES),
            probability_models=len(MODELS),
            ab_experiments=len(EXPERIMENTS),
        )
        phases["commit"] = time.monotonic() - mark
        mark = time.monotonic()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "analyze " + ", ".join(f"raw.{table}" for table in (*BULK_TABLES, "strategies"))
            )
        phases["analyze"] = time.monotonic() - mark
    finally:
        connection.close()
    return SimulationReport(
        "history",
        seed,
        world.games_per_day,
        _utc(world.history_start),
        _utc(end_s),
        _ordered(rows),
        updated,
        late,
        time.monotonic() - began,
        phases,
    )


def append_hours(hours: int, *, target: database.Warehouse | None = None) -> SimulationReport:
    """Continue the simulated world `hours` hours past simulated_through."""
    if hours <= 0:
        raise ValueError("hours must be positive")
    began = time.monotonic()
    phases: dict[str, float] = {}
    connection = database.connect(target)
    try:
        with connection, connection.cursor() as cursor:
            _lock(cursor)
            cursor.execute(
                "select seed, games_per_day, extract(epoch from history_start)::bigint,"
                " extract(epoch from simulated_through)::bigint, extract(epoch from now())"
                " from precog_meta.simulation"
            )
            state = cursor.fetchone()
            if state is None:
                raise SimulationError(
                    "nothing to append to: no simulated history (run `precog simulate --trades N`)"
                )
            seed, games_per_day, history_start, through, now = state
            world = World(int(seed), float(games_per_day), int(history_start))
            a, b = int(through), int(through) + hours * 3_600
            if b > float(now):
                raise SimulationError(
                    f"cannot append {hours} h: the window would end at {_iso(b)}, after the "
                    f"current time {_iso(int(now))}; simulate the history with an earlier --end"
                )
            rows, updated, late = _load_window(cursor, world, a, b, False, phases)
            cursor.execute(
                "update precog_meta.simulation set simulated_through = to_timestamp(%s),"
                " updated_at = now()",
                (b,),
            )
    finally:
        connection.close()
    return SimulationReport(
        "append",
        world.seed,
        world.games_per_day,
        _utc(a),
        _utc(b),
        _ordered(rows),
        updated,
        late,
        time.monotonic() - began,
        phases,
    )


BAD_KINDS = (
    "price_out_of_range",
    "non_positive_quantity",
    "negative_fees",
    "future_execution",
    "unknown_position",
    "closing_without_entry",
    "closing_more_than_open",
    "duplicate_trade_id",
    "multiple_current_versions",
)


def add_bad_rows(
    n: int, seed: int = 0, *, target: database.Warehouse | None = None
) -> dict[str, int]:
    """Add `n` rows that each break exactly one contract rule, round-robin over BAD_KINDS.

    Trade-level bad rows go to fresh positions (a valid positions row of an existing market)
    so that nothing else about them is wrong; their ids come from a reserved range above
    BAD_ID_BASE. Returns the rows added per kind.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    counts = {kind: 0 for kind in BAD_KINDS}
    rng = np.random.default_rng([seed, 7_777])
    with database.transaction(target) as cursor:
        _lock(cursor)
        cursor.execute(
            "select position_id, market_id, strategy_id, model_id, side from raw.positions"
            " where row_current_ind and position_id < %s order by position_key desc limit 500",
            (BAD_ID_BASE,),
        )
        templates = cursor.fetchall()
        if not templates:
            raise SimulationError(
                "raw holds no simulated positions to add bad rows to: simulate first"
            )
        cursor.execute(
            "select greatest("
            " (select max(trade_id) from raw.trades where trade_id >= %(base)s),"
            " (select max(position_key) from raw.positions where position_key >= %(base)s),"
            " (select max(position_id) from raw.positions where position_id >= %(base)s),"
            " (select max(market_key) from raw.markets where market_key >= %(base)s))",
            {"base": BAD_ID_BASE},
        )
        next_id = max(BAD_ID_BASE, cursor.fetchone()[0] or 0) + 1
        cursor.execute("select now()")
        now = cursor.fetchone()[0]
        trades: list[tuple] = []
        positions: list[tuple] = []

        def new_id() -> int:
            nonlocal next_id
            next_id += 1
            return next_id - 1

        def fresh_position(at: dt.datetime) -> int:
            _, market_id, strategy_id, model_id, side = templates[rng.integers(len(templates))]
            position_id = new_id()
            positions.append(
                (
                    new_id(),
                    position_id,
                    market_id,
                    strategy_id,
                    model_id,
                    side,
                    10,
                    "0.4500",
                    "0.45",
                    "0.0000",
                    "open",
                    True,
                    at,
                    None,
                    1,
                )
            )
            return position_id

        for i in range(n):
            kind = BAD_KINDS[i % len(BAD_KINDS)]
            at = now - dt.timedelta(minutes=90) + dt.timedelta(seconds=i)
            if kind == "price_out_of_range":
                price = ("1.25", "-0.10")[(i // len(BAD_KINDS)) % 2]
                trades.append((new_id(), fresh_position(at), "entry", 10, price, "0.02", at))
            elif kind == "non_positive_quantity":
                quantity = (0, -10)[(i // len(BAD_KINDS)) % 2]
                trades.append((new_id(), fresh_position(at), "entry", quantity, "0.45", "0.00", at))
            elif kind == "negative_fees":
                trades.append((new_id(), fresh_position(at), "entry", 10, "0.45", "-0.02", at))
            elif kind == "future_execution":
                future = now + dt.timedelta(days=3, seconds=i)
                trades.append((new_id(), fresh_position(at), "entry", 10, "0.45", "0.02", future))
            elif kind == "unknown_position":
                trades.append((new_id(), new_id(), "entry", 10, "0.45", "0.02", at))
            elif kind == "closing_without_entry":
                trades.append((new_id(), fresh_position(at), "exit", 10, "0.55", "0.02", at))
            elif kind == "closing_more_than_open":
                position_id = fresh_position(at)
                trades.append((new_id(), position_id, "entry", 10, "0.45", "0.02", at))
                later = at + dt.timedelta(minutes=1)
                trades.append((new_id(), position_id, "exit", 15, "0.55", "0.03", later))
            elif kind == "duplicate_trade_id":
                trades.append(_duplicate_of_entry(cursor, rng))
            else:
                _copy_older_version(cursor, rng, new_id(), markets=(i // len(BAD_KINDS)) % 2 == 1)
            counts[kind] += 1
        from psycopg2.extras import execute_values

        if positions:
            execute_values(
                cursor,
                "insert into raw.positions (position_key, position_id, market_id, strategy_id,"
                " model_id, side, quantity, entry_price, current_price, unrealized_pnl, status,"
                " row_current_ind, row_start_ts, row_end_ts, row_version) values %s",
                positions,
            )
        execute_values(
            cursor,
            "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
            " execution_timestamp) values %s",
            trades,
        )
    return counts


def _duplicate_of_entry(cursor, rng) -> tuple:
    """A new row with the trade_id of a loaded simulated entry, one cent off in price."""
    cursor.execute(
        "select min(trade_id), max(trade_id) from raw.trades where trade_id < %s", (BAD_ID_BASE,)
    )
    low, high = cursor.fetchone()
    if low is None:
        raise SimulationError("raw.trades holds no simulated trades to duplicate")
    probe = int(low + rng.random() * (high - low))
    cursor.execute(
        "select trade_id, position_id, quantity, price, execution_timestamp from raw.trades"
        " where action = 'entry' and trade_id >= %s and trade_id < %s"
        " order by trade_id limit 1",
        (probe, BAD_ID_BASE),
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            "select trade_id, position_id, quantity, price, execution_timestamp from raw.trades"
            " where action = 'entry' and trade_id < %s order by trade_id limit 1",
            (BAD_ID_BASE,),
        )
        row = cursor.fetchone()
    trade_id, position_id, quantity, price, executed = row
    cents = round(price * 100)
    cents = cents + 1 if cents < 99 else cents - 1
    fees = _fee_cents(np.int64(int(quantity)), np.int64(cents))
    return (
        trade_id,
        position_id,
        "entry",
        quantity,
        f"{cents / 100:.2f}",
        f"{int(fees) // 100}.{int(fees) % 100:02d}",
        executed,
    )


def _copy_older_version(cursor, rng, key: int, markets: bool) -> None:
    """Insert a copy of an older version of a position (or market) marked current."""
    table, surrogate, business = (
        ("markets", "market_key", "market_id")
        if markets
        else ("positions", "position_key", "position_id")
    )
    cursor.execute(
        f"select {business} from raw.{table} where row_current_ind and row_version >= 2"
        f" and {surrogate} < %s order by {surrogate} desc limit 200",
        (BAD_ID_BASE,),
    )
    candidates = [row[0] for row in cursor.fetchall()]
    if not candidates:
        raise SimulationError(f"raw.{table} holds no key with two versions to copy")
    chosen = candidates[rng.integers(len(candidates))]
    cursor.execute(
        "select column_name from information_schema.columns where table_schema = 'raw'"
        " and table_name = %s and column_name not in (%s, 'row_current_ind', 'row_end_ts',"
        " 'loaded_at') order by ordinal_position",
        (table, surrogate),
    )
    columns = [row[0] for row in cursor.fetchall()]
    listed = ", ".join(columns)
    cursor.execute(
        f"insert into raw.{table} ({surrogate}, {listed}, row_current_ind, row_end_ts)"
        f" select %s, {listed}, true, null from raw.{table}"
        f" where {business} = %s and row_version = 1 and {surrogate} < %s limit 1",
        (key, chosen, BAD_ID_BASE),
    )


# --- helpers -------------------------------------------------------------------------------


def _timestamp(moment: dt.datetime) -> int:
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise ValueError("end must be a timezone-aware datetime")
    return int(moment.timestamp())


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC)


def _iso(seconds: int) -> str:
    return _utc(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ordered(rows: dict[str, int]) -> dict[str, int]:
    return {table: rows.get(table, 0) for table in RAW_TABLES if table in rows}


def _lock(cursor) -> None:
    cursor.execute("select pg_advisory_xact_lock(hashtext('precog simulator'))")


def populated_tables(cursor) -> list[str]:
    """The raw tables that hold rows."""
    populated = []
    for table in RAW_TABLES:
        cursor.execute(f"select exists (select 1 from raw.{table})")
        if cursor.fetchone()[0]:
            populated.append(f"raw.{table}")
    return populated


def raw_is_empty(target: database.Warehouse | None = None) -> bool:
    with database.transaction(target) as cursor:
        return not populated_tables(cursor)


def _refuse_populated(cursor, replace: bool) -> None:
    """Refuse to wipe a populated raw unless told to."""
    populated = populated_tables(cursor)
    if populated and not replace:
        cursor.execute("select count(*) from raw.trade_import_lines")
        imported = cursor.fetchone()[0]
        cursor.execute("select exists (select 1 from precog_meta.simulation)")
        whose = "" if cursor.fetchone()[0] else " rows the simulator did not write, in"
        raise SimulationError(
            f"the warehouse already holds{whose} {', '.join(populated[:3])}"
            f"{' and more' if len(populated) > 3 else ''} ({imported} imported trades):"
            " --replace replaces all of raw, imported trades included, and makes the next"
            " `precog run` a full refresh; or simulate into another database (PGDATABASE)"
        )


def _drop_indexes(cursor) -> list[str]:
    """Drop the indexes and key constraints of the bulk tables; returns what recreates them."""
    tables = [f"raw.{table}" for table in BULK_TABLES]
    cursor.execute(
        "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
        " where contype in ('p', 'u') and conrelid::regclass::text = any(%s)",
        (tables,),
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i"
        " where i.indrelid::regclass::text = any(%s)"
        " and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)",
        (tables,),
    )
    indexes = cursor.fetchall()
    for table, name, _ in constraints:
        cursor.execute(f'alter table {table} drop constraint "{name}"')
    for name, _ in indexes:
        cursor.execute(f"drop index {name}")
    return [definition for _, definition in indexes] + [
        f'alter table {table} add constraint "{name}" {definition}'
        for table, name, definition in constraints
    ]


def _insert_static(cursor, world: World) -> None:
    from psycopg2.extras import execute_values

    execute_values(
        cursor,
        "insert into raw.probability_models (model_id, model_name, model_version, config, status)"
        " values %s",
        [(m[0], m[1], m[2], json.dumps(m[4]), m[3]) for m in MODELS],
    )
    execute_values(
        cursor,
        "insert into raw.strategies (strategy_id, strategy_name, strategy_version, config,"
        " status) values %s",
        [(s.strategy_id, s.name, s.version, json.dumps(s.config), s.status) for s in STRATEGIES],
    )
    execute_values(
        cursor,
        "insert into raw.ab_experiments (experiment_name, control_strategy_id,"
        " treatment_strategy_id, traffic_split, start_ts, end_ts, status, primary_metric, alpha)"
        " values %s",
        [
            (
                name,
                int(STRATEGY_IDS[control]),
                int(STRATEGY_IDS[treatment]),
                "0.5",
                _utc(world.experiment_start(e)),
                None,
                "running",
                "pnl_per_market",
                "0.05",
            )
            for e, (name, control, treatment, _) in enumerate(EXPERIMENTS)
        ],
    )
