"""The world as data: leagues with their seasons and teams, the models, the strategies,
the experiments, and the calendar of game days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from precog.warehouse import database

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


def expected_games(games_per_day: float, days: np.ndarray) -> np.ndarray:
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
        return day_of(self.history_start) + FIRST_DAY_OFFSET

    def experiment_start(self, index: int) -> int:
        return self.history_start + EXPERIMENTS[index][3] * DAY


def day_of(unix_seconds: int) -> int:
    return int(unix_seconds) // DAY + _UNIX_EPOCH_ORDINAL


@lru_cache(maxsize=4096)
def et_midnight(day: int) -> int:
    """Unix seconds of 00:00 US/Eastern on day `day`, at that day's noon offset."""
    date = dt.date.fromordinal(day)
    offset = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ET).utcoffset()
    return (day - _UNIX_EPOCH_ORDINAL) * DAY - int(offset.total_seconds())


@lru_cache(maxsize=512)
def team_ratings(seed: int, league: int, season: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 1_000_003, league, season])
    spread = RATING_SD[LEAGUES[league].name]
    return 1500.0 + spread * rng.standard_normal(len(LEAGUES[league].teams))


def segmented_versions(owner: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def lookup(times: np.ndarray, values: np.ndarray, rows: np.ndarray, at: np.ndarray) -> np.ndarray:
    """values[row, version in force at `at`] where times[row] are version starts (NONE padded)."""
    index = (times[rows] <= at[:, None]).sum(axis=1) - 1
    return values[rows, np.maximum(index, 0)]
