"""A/B tests of strategy versions (DESIGN.md, "A/B testing"): pure functions, no database.

Variants are assigned per market, so the **market is the unit of analysis**. The trades of one
market share its game, prices and news: treating them as independent observations (a per-trade
t-test) understates the variance and flags far more than alpha of A/A experiments. Every test
here works on per-market totals (closed trades n_i, wins w_i, realized P&L x_i of market i,
markets with no trade included with zeros: intention to treat):

metrics (control_value / treatment_value) and tests (role):

- `assignment` (share of markets in each variant): `srm_chi2` (guardrail), chi-square of
  market counts against traffic_split, flagged at p < 0.001.
- `win_rate` (Σw / Σn, a ratio over markets): `delta_z` (primary), delta-method z-test;
  `bootstrap_bca` (secondary).
- `pnl_per_trade` (Σx / Σn, a ratio over markets): `delta_z` (primary); `bootstrap_bca`
  (secondary).
- `pnl_per_market` (mean of x_i): `welch_t` (primary); `permutation` within strata,
  `bootstrap_bca` and `post_stratified` (secondary); `mann_whitney_u` (diagnostic, on medians).

- **Primary** tests form the experiment's family: their p-values are Holm-adjusted together
  (`p_adjusted`) and `significant` means p_adjusted < the experiment's alpha. The SRM row is
  `significant` when p < 0.001 (`SRM_ALPHA`): a mismatch makes every other row suspect.
  Secondary and diagnostic rows are robustness checks with `significant` null: read their
  p_value and interval, decide on the primary tests.
- **difference** is always absolute (treatment - control). **relative_lift** = difference /
  control_value, only where the control mean is *clearly positive*: its own two-sided
  (1 - alpha) interval lies above 0 (control_value - z_{1-alpha/2} * SE_control > 0); null
  otherwise (a lift over a mean near or below 0 is meaningless or sign-flipped).
- **Intervals** are at level 1 - alpha (the experiment's alpha): Welch's t interval, normal
  intervals for the z-tests, BCa for the bootstrap (resampling markets within each variant).
- **mde**, minimum detectable effect at the current sample: the absolute difference the test
  detects with power 0.8 (`TARGET_POWER`) at two-sided alpha, (z_{1-alpha/2} + z_{0.8}) * SE,
  with SE the standard error of the difference at the current sample. `power()` gives the
  power against any other effect size.
- **Post-stratification** over league x market_type with small strata merged
  (`merge_strata`): a cell with fewer than `MIN_STRATUM_MARKETS` (10) markets in either variant
  joins its league's pool of small cells; a league pool still short of 10 per variant joins one
  pool of all remaining small cells; if that is still short, it joins the largest stratum.
  Weights are each stratum's share of all assigned markets.
- Inputs that cannot support a test (a variant without markets, a single market, no closed
  trades, zero variance) give the row with a null statistic and the `reason`, never an error.
- Randomness (permutations, bootstrap) is seeded from the experiment name, so a run is
  reproducible.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np
import pandas as pd
from scipy import special, stats

SRM_ALPHA = 0.001
TARGET_POWER = 0.8
MIN_STRATUM_MARKETS = 10
N_PERMUTATIONS = 2000
N_BOOTSTRAP = 2000
# Threads the resamplings (a permutation test and the bootstraps per experiment) run on.
RESAMPLING_THREADS = min(4, len(os.sched_getaffinity(0)))
# The bootstrap draws in batches of about this many draws, as scipy.stats.bootstrap does with
# the same batch (its draws depend on it: each batch draws every sample in turn).
_BATCH_ELEMENTS = 4_000_000
# Draws held at once, whatever the batch: the working set of a resampling thread stays in the
# cache (at 4M, two threads took 44 CPU seconds for the 10M desk's analysis; at 1M, 30).
_WORK_ELEMENTS = 1_000_000

METRICS = ("assignment", "win_rate", "pnl_per_trade", "pnl_per_market")
PRIMARY_TESTS = {"win_rate": "delta_z", "pnl_per_trade": "delta_z", "pnl_per_market": "welch_t"}
RESULT_COLUMNS = (
    "experiment_name",
    "metric",
    "test",
    "role",
    "control_value",
    "treatment_value",
    "difference",
    "relative_lift",
    "ci_low",
    "ci_high",
    "statistic",
    "p_value",
    "p_adjusted",
    "significant",
    "alpha",
    "mde",
    "n_control_markets",
    "n_treatment_markets",
    "n_control_trades",
    "n_treatment_trades",
    "reason",
    "data_through",
    "computed_at",
)
# The per-market input (intermediate.int_ab_market_outcomes).
INPUT_COLUMNS = ("variant", "closed_trades", "winning_trades", "realized_pnl")


@dataclasses.dataclass(frozen=True)
class Experiment:
    name: str
    traffic_split: float = 0.5  # share of markets assigned to treatment
    alpha: float = 0.05
    primary_metric: str = "pnl_per_market"
    data_through: dt.datetime | None = None


@dataclasses.dataclass
class TestResult:
    """One test of one metric: the numbers of a result row, before Holm and bookkeeping."""

    control_value: float | None = None
    treatment_value: float | None = None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    se: float | None = None  # standard error of the difference (for the MDE)
    se_control: float | None = None  # standard error of control_value (for the lift rule)
    reason: str | None = None


# --- small helpers ---------------------------------------------------------------------------


def _z(alpha: float) -> float:
    """z_{1 - alpha/2}."""
    return float(special.ndtri(1 - alpha / 2))


def _finite(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _not_enough(control: np.ndarray, treatment: np.ndarray, minimum: int = 2) -> str | None:
    """The reason two samples of markets cannot support a test, or None."""
    for name, sample in (("control", control), ("treatment", treatment)):
        if len(sample) == 0:
            return f"no markets in {name}"
    for name, sample in (("control", control), ("treatment", treatment)):
        if len(sample) < minimum:
            return f"fewer than {minimum} markets in {name}"
    return None


def seed_for(name: str, base: int = 0) -> int:
    """A stable seed per experiment (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode()) + (base << 32)


def mde(se: float | None, alpha: float, power: float = TARGET_POWER) -> float | None:
    """Minimum detectable absolute effect of a two-sided test with this standard error."""
    if se is None or not math.isfinite(se) or se <= 0:
        return None
    return (_z(alpha) + float(special.ndtri(power))) * se


def power(effect: float, se: float, alpha: float) -> float:
    """Power of a two-sided z-test at level alpha against a true difference `effect`."""
    z = _z(alpha)
    shift = abs(effect) / se
    return float(special.ndtr(shift - z) + special.ndtr(-shift - z))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None: not in the family).

    Sorted ascending, p_(k) becomes max over j <= k of min(1, (m - j + 1) p_(j)).
    """
    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    m = len(present)
    running = 0.0
    for rank, i in enumerate(sorted(present, key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# --- the tests -------------------------------------------------------------------------------


def srm_test(n_control: int, n_treatment: int, traffic_split: float) -> TestResult:
    """Sample-ratio mismatch: chi-square (1 df) of market counts against traffic_split.

    control_value and treatment_value are the observed shares of markets; difference is the
    observed treatment share minus traffic_split.
    """
    total = n_control + n_treatment
    if total == 0:
        return TestResult(reason="no markets assigned")
    result = TestResult(
        control_value=n_control / total,
        treatment_value=n_treatment / total,
        difference=n_treatment / total - traffic_split,
    )
    if not 0 < traffic_split < 1:
        result.reason = f"traffic_split {traffic_split} outside (0, 1)"
        return result
    chi2 = stats.chisquare(
        [n_control, n_treatment], f_exp=[total * (1 - traffic_split), total * traffic_split]
    )
    result.statistic, result.p_value = float(chi2.statistic), float(chi2.pvalue)
    return result


def ratio_and_variance(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float]:
    """A ratio metric over markets, R = Σ num / Σ den, and its delta-method variance.

    With m markets, means x̄, ȳ, sample variances s_x², s_y² and covariance s_xy (ddof 1):
    Var(R) ≈ (s_x² - 2 R s_xy + R² s_y²) / (m ȳ²)   (Deng, Knoblich, Lu 2018).
    """
    x = np.asarray(numerator, float)
    y = np.asarray(denominator, float)
    m = len(x)
    ratio = x.sum() / y.sum()
    cov = np.cov(x, y, ddof=1)
    variance = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (m * y.mean() ** 2)
    return float(ratio), float(max(variance, 0.0))


def delta_test(
    num_control: np.ndarray,
    den_control: np.ndarray,
    num_treatment: np.ndarray,
    den_treatment: np.ndarray,
    alpha: float,
) -> TestResult:
    """z-test of the difference of two ratio metrics over markets (delta method)."""
    reason = _not_enough(np.asarray(den_control), np.asarray(den_treatment))
    result = TestResult()
    for name, den in (("control", den_control), ("treatment", den_treatment)):
        if len(den) and np.sum(den) <= 0:
            reason = reason or f"no closed trades in {name}"
    if np.sum(den_control) > 0:
        result.control_value = float(np.sum(num_control) / np.sum(den_control))
    if np.sum(den_treatment) > 0:
        result.treatment_value = float(np.sum(num_treatment) / np.sum(den_treatment))
    if result.control_value is not None and result.treatment_value is not None:
        result.difference = result.treatment_value - result.control_value
    if reason:
        result.reason = reason
        return result
    _, var_c = ratio_and_variance(num_control, den_control)
    _, var_t = ratio_and_variance(num_treatment, den_treatment)
    se = math.sqrt(var_c + var_t)
    result.se, result.se_control = se, math.sqrt(var_c)
    if se == 0:
        result.reason = "zero variance in both variants"
        return result
    z = result.difference / se
    result.statistic, result.p_value = z, float(2 * special.ndtr(-abs(z)))
    half = _z(alpha) * se
    result.ci_low, result.ci_high = result.difference - half, result.difference + half
    return result


def welch_test(control: np.ndarray, treatment: np.ndarray, alpha: float) -> TestResult:
    """Welch's unequal-variance t-test of the means (treatment - control)."""
    control, treatment = np.asarray(control, float), np.asarray(treatment, float)
    result = TestResult(
        control_value=float(control.mean()) if len(control) else None,
        treatment_value=float(treatment.mean()) if len(treatment) else None,
    )
    if len(control) and len(treatment):
        result.difference = result.treatment_value - result.control_value
    result.reason = _not_enough(control, treatment)
    if result.reason:
        return result
    var_c, var_t = control.var(ddof=1) / len(control), treatment.var(ddof=1) / len(treatment)
    result.se, result.se_control = math.sqrt(var_c + var_t), math.sqrt(var_c)
    if result.se == 0:
        result.reason = "zero variance in both variants"
        return result
    test = stats.ttest_ind(treatment, control, equal_var=False)
    interval = test.confidence_interval(confidence_level=1 - alpha)
    result.statistic, result.p_value = float(test.statistic), float(test.pvalue)
    result.ci_low, result.ci_high = float(interval.low), float(interval.high)
    return result


def mann_whitney_test(control: np.ndarray, treatment: np.ndarray) -> TestResult:
    """Mann-Whitney U of treatment against control (a diagnostic: it tests whether one
    variant's per-market P&L tends to be larger, not a difference of means). Values are
    medians; statistic is U of treatment."""
    control, treatment = np.asarray(control, float), np.asarray(treatment, float)
    result = TestResult(
        control_value=float(np.median(control)) if len(control) else None,
        treatment_value=float(np.median(treatment)) if len(treatment) else None,
    )
    if len(control) and len(treatment):
        result.difference = result.treatment_value - result.control_value
    result.reason = _not_enough(control, treatment, minimum=1)
    if result.reason:
        return result
    if np.ptp(np.concatenate([control, treatment])) == 0:
        result.reason = "all values tied"
        return result
    test = stats.mannwhitneyu(treatment, control, alternative="two-sided")
    result.statistic, result.p_value = float(test.statistic), float(test.pvalue)
    return result


def permutation_test(
    values: np.ndarray,
    treated: np.ndarray,
    strata: np.ndarray,
    *,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> TestResult:
    """Difference of means (treatment - control) against its distribution when variants are
    permuted within strata (each stratum keeps its numbers of control and treatment markets).

    p = (1 + #{|permuted difference| >= |observed|}) / (1 + n_permutations).

    A permutation gives each market a uniform random key and treats, in each stratum, the
    markets with the smallest keys: a uniformly random relabelling, drawn 3x faster than by
    shuffling the labels (a partition instead of a Fisher-Yates shuffle).
    """
    values, treated = np.asarray(values, float), np.asarray(treated, bool)
    strata = pd.factorize(np.asarray(strata))[0]
    control_values, treatment_values = values[~treated], values[treated]
    result = TestResult(
        control_value=float(control_values.mean()) if len(control_values) else None,
        treatment_value=float(treatment_values.mean()) if len(treatment_values) else None,
    )
    if len(control_values) and len(treatment_values):
        result.difference = result.treatment_value - result.control_value
    result.reason = _not_enough(control_values, treatment_values)
    if result.reason:
        return result
    n_t, n_c, total = treated.sum(), (~treated).sum(), values.sum()
    if np.ptp(values) == 0:
        result.reason = "zero variance in both variants"
        return result
    rng = np.random.default_rng(seed)
    treated_sums = np.zeros(n_permutations)
    for stratum in range(strata.max() + 1):
        members = strata == stratum
        v, n_treated = values[members], int(treated[members].sum())
        if n_treated in (0, len(v)):
            treated_sums += v.sum() if n_treated else 0.0
            continue
        batch = max(1, _WORK_ELEMENTS // len(v))
        for start in range(0, n_permutations, batch):
            b = min(batch, n_permutations - start)
            keys = rng.random((b, len(v)))
            chosen = np.argpartition(keys, n_treated, axis=1)[:, :n_treated]
            treated_sums[start : start + b] += v[chosen].sum(axis=1)
    permuted = treated_sums / n_t - (total - treated_sums) / n_c
    observed = result.difference
    tolerance = 1e-9 * max(1.0, abs(observed))
    exceed = np.count_nonzero(np.abs(permuted) >= abs(observed) - tolerance)
    result.statistic = observed
    result.p_value = (1 + exceed) / (1 + n_permutations)
    return result


# A bootstrapped statistic is a function of each sample's sum and size: (sums, sizes) ->
# statistic, elementwise over arrays of sums. The resamples are then summed as counts times
# values, a matrix product, instead of gathered (`resample`), and the jackknife is each sample's
# sum less one value (`bca_interval`).
SumStatistic = Callable[[Sequence, Sequence], np.ndarray]


def resample(
    sample_sets: Sequence[Sequence[np.ndarray]],
    statistics: Sequence[SumStatistic],
    *,
    n_resamples: int = N_BOOTSTRAP,
    seed: int = 0,
) -> list[np.ndarray]:
    """The bootstrap distribution of `statistics[k]` over the samples `sample_sets[k]` for each
    k, every set resampled with the same draws: its samples are the same markets (of the same
    lengths) seen through different metrics, so one draw of market indices serves them all.
    The draws are scipy.stats.bootstrap's for the same seed and batch (`_BATCH_ELEMENTS`); a
    resample's sums are its count of each market times the values (one matrix product for
    every metric), 3x faster than gathering the drawn values."""
    lengths = [len(s) for s in sample_sets[0]]
    if any([len(s) for s in samples] != lengths for samples in sample_sets):
        raise ValueError("every set of samples must have the same lengths")
    # Per sample position, the real columns of every set: a complex sample (numerator +
    # 1j * denominator) is two columns.
    columns = [_real_columns([samples[j] for samples in sample_sets]) for j in range(len(lengths))]
    rng = np.random.default_rng(seed)
    batch = max(1, _BATCH_ELEMENTS // max(lengths))
    theta_b = [[] for _ in statistics]
    for start in range(0, n_resamples, batch):
        b = min(batch, n_resamples - start)
        sums = [unpack(_resampled_sums(rng, b, matrix)) for matrix, unpack in columns]
        for k, statistic in enumerate(statistics):
            theta_b[k].append(statistic([s[k] for s in sums], lengths))
    return [np.concatenate(values) for values in theta_b]


def _resampled_sums(rng: np.random.Generator, b: int, matrix: np.ndarray) -> np.ndarray:
    """The column sums of `b` resamples of the rows of `matrix`, drawn by `rng`: each resample's
    count of each row times the matrix. Drawn a few resamples at a time (`_WORK_ELEMENTS`): the
    generator's stream does not depend on how its draws are cut, so these are the draws of all
    `b` at once; the sums are equal to the BLAS's rounding (a product cut into other rows may
    round its last bit otherwise)."""
    n = len(matrix)
    rows = max(1, min(b, _WORK_ELEMENTS // max(n, 1)))
    sums = np.empty((b, matrix.shape[1]))
    counts = np.empty((rows, n))
    for first in range(0, b, rows):
        drawn = rng.integers(0, n, (min(rows, b - first), n))
        for row, draws in enumerate(drawn):
            counts[row] = np.bincount(draws, minlength=n)
        sums[first : first + len(drawn)] = counts[: len(drawn)] @ matrix
    return sums


def _real_columns(samples: Sequence[np.ndarray]):
    """The samples as one real matrix (a column per real part, another per imaginary part), and
    the function turning its product's columns back into each sample's sums."""
    parts, spans = [], []
    for sample in samples:
        spans.append((len(parts), np.iscomplexobj(sample)))
        parts += [sample.real, sample.imag] if np.iscomplexobj(sample) else [sample]
    matrix = np.column_stack(parts)

    def unpack(product: np.ndarray) -> list[np.ndarray]:
        return [
            product[:, i] + 1j * product[:, i + 1] if is_complex else product[:, i]
            for i, is_complex in spans
        ]

    return matrix, unpack


def bootstrap_bca(
    samples: Sequence[np.ndarray],
    statistic: SumStatistic,
    *,
    confidence_level: float,
    n_resamples: int = N_BOOTSTRAP,
    seed: int = 0,
) -> tuple[float, float, np.ndarray]:
    """BCa interval of `statistic` over independent samples, each resampled with replacement
    within itself (here: markets within a variant), and the bootstrap distribution. Follows
    scipy.stats.bootstrap(method='BCa') step for step, with the same random draws for the same
    seed and batch (`resample`, `bca_interval`)."""
    [theta_b] = resample([samples], [statistic], n_resamples=n_resamples, seed=seed)
    low, high = bca_interval(samples, statistic, theta_b, confidence_level)
    return low, high, theta_b


def bca_interval(
    samples: Sequence[np.ndarray],
    statistic: SumStatistic,
    theta_b: np.ndarray,
    confidence_level: float,
) -> tuple[float, float]:
    """The BCa interval from the bootstrap distribution `theta_b` of `statistic`, with an O(n)
    jackknife: sample j's leave-one-out sums are its sum less each value (scipy's jackknife
    materialises n x (n - 1) arrays)."""
    sums, sizes = [s.sum() for s in samples], [len(s) for s in samples]
    theta_hat = statistic(sums, sizes)
    if not np.all(np.isfinite(theta_b)):
        return math.nan, math.nan
    # Bias correction: the share of resamples below the estimate (ties count half).
    share = (np.count_nonzero(theta_b < theta_hat) + np.count_nonzero(theta_b <= theta_hat)) / (
        2 * len(theta_b)
    )
    z0 = special.ndtri(share)
    # Acceleration from the jackknife of each sample.
    nums, dens = 0.0, 0.0
    for j, sample in enumerate(samples):
        left_out = [sums[i] - sample if i == j else sums[i] for i in range(len(samples))]
        theta_i = statistic(left_out, [n - (i == j) for i, n in enumerate(sizes)])
        n = float(len(theta_i))
        u = (n - 1) * (theta_i.mean() - theta_i)
        nums += np.sum(u**3) / n**3
        dens += np.sum(u**2) / n**2
    accel = nums / 6 / dens**1.5 if dens > 0 else 0.0
    z_alpha = special.ndtri((1 - confidence_level) / 2)
    levels = []
    for z in (z_alpha, -z_alpha):
        levels.append(special.ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z))))
    if not np.all(np.isfinite(levels)):
        return math.nan, math.nan
    low, high = np.quantile(theta_b, levels)
    return float(low), float(high)


def _mean_difference(sums, sizes):
    """Statistic of the bootstrap of pnl_per_market: mean(treatment) - mean(control)."""
    return sums[1] / sizes[1] - sums[0] / sizes[0]


def _ratio_difference(sums, sizes):
    """Statistic of the bootstrap of a ratio metric. Each sample is complex: real part the
    numerator, imaginary part the denominator of each market, so that a resample keeps a
    market's pair together. Σ num / Σ den of treatment minus that of control."""
    return sums[1].real / sums[1].imag - sums[0].real / sums[0].imag


def bootstrap_tests(
    metrics: Sequence[tuple[np.ndarray, np.ndarray, bool]],
    *,
    alpha: float,
    n_resamples: int = N_BOOTSTRAP,
    seed: int = 0,
) -> list[TestResult]:
    """BCa interval of the difference of each metric, (control, treatment, ratio), resampling
    markets within each variant: the metrics are of the same markets, so one draw serves them
    all (`resample`), as if each had been drawn on its own with `seed`. For a ratio metric the
    samples are complex (numerator + 1j * denominator per market)."""
    results = [_bootstrap_estimates(c, t, ratio) for c, t, ratio in metrics]
    drawn = [k for k, result in enumerate(results) if not result.reason]
    statistics = [_ratio_difference if metrics[k][2] else _mean_difference for k in drawn]
    with np.errstate(divide="ignore", invalid="ignore"):
        distributions = (
            resample(
                [metrics[k][:2] for k in drawn],
                statistics,
                n_resamples=n_resamples,
                seed=seed,
            )
            if drawn
            else []
        )
        for k, statistic, theta_b in zip(drawn, statistics, distributions, strict=True):
            low, high = bca_interval(metrics[k][:2], statistic, theta_b, 1 - alpha)
            result = results[k]
            if not np.all(np.isfinite(theta_b)):
                result.reason = "a resample has no closed trades in a variant"
            elif np.ptp(theta_b) == 0:
                result.reason = "zero variance in both variants"
            else:
                result.ci_low, result.ci_high = low, high
                result.se = float(np.std(theta_b, ddof=1))
    return results


def _bootstrap_estimates(control: np.ndarray, treatment: np.ndarray, ratio: bool) -> TestResult:
    """Each variant's value and their difference, or why the samples cannot be resampled."""
    result = TestResult()
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, sample in (("control", control), ("treatment", treatment)):
            if len(sample) == 0:
                continue
            total = np.sum(sample)
            value = total.real / total.imag if ratio else total / len(sample)
            setattr(result, f"{name}_value", _finite(value))
    if result.control_value is not None and result.treatment_value is not None:
        result.difference = result.treatment_value - result.control_value
    result.reason = _not_enough(control, treatment)
    if not result.reason and ratio:
        for name, sample in (("control", control), ("treatment", treatment)):
            if np.sum(sample).imag <= 0:
                result.reason = f"no closed trades in {name}"
                break
    return result


def merge_strata(
    league: np.ndarray,
    market_type: np.ndarray,
    treated: np.ndarray,
    minimum: int = MIN_STRATUM_MARKETS,
) -> np.ndarray:
    """Post-stratification strata: league x market_type cells, small ones merged.

    A cell with fewer than `minimum` markets in either variant joins the pool of its league's
    small cells (`league|*`); a league pool still short joins one pool of every remaining
    small cell (`*`); if that pool is still short it joins the largest stratum (or, when no
    stratum is large enough, all markets form one stratum). Returns a label per market.
    """
    league = np.array([str(x) if x is not None else "?" for x in league], dtype=object)
    market_type = np.array([str(x) if x is not None else "?" for x in market_type], dtype=object)
    treated = np.asarray(treated, bool)
    labels = league + "|" + market_type

    def small(labels: np.ndarray) -> set[str]:
        frame = pd.DataFrame({"s": labels, "t": treated})
        counts = frame.groupby("s")["t"].agg(["sum", "size"])
        short = (counts["sum"] < minimum) | (counts["size"] - counts["sum"] < minimum)
        return set(counts.index[short])

    short = small(labels)
    labels = np.where(np.isin(labels, list(short)), league + "|*", labels)
    short = small(labels)
    labels = np.where(np.isin(labels, list(short)), "*", labels)
    if "*" in small(labels):
        sizes = pd.Series(labels[labels != "*"]).value_counts()
        labels = np.where(labels == "*", sizes.index[0] if len(sizes) else "*", labels)
    return labels


def post_stratified_test(
    values: np.ndarray,
    treated: np.ndarray,
    league: np.ndarray,
    market_type: np.ndarray,
    alpha: float,
    minimum: int = MIN_STRATUM_MARKETS,
) -> TestResult:
    """Post-stratified difference of means: Σ_s w_s (ȳ_T,s - ȳ_C,s), w_s the share of all
    assigned markets in stratum s (strata from merge_strata), variance
    Σ_s w_s² (s²_T,s / n_T,s + s²_C,s / n_C,s); normal z-test and interval."""
    values, treated = np.asarray(values, float), np.asarray(treated, bool)
    result = TestResult()
    result.reason = _not_enough(values[~treated], values[treated])
    if result.reason:
        return result
    strata = merge_strata(league, market_type, treated, minimum)
    frame = pd.DataFrame({"s": strata, "t": treated, "y": values})
    cells = frame.groupby(["s", "t"])["y"].agg(["mean", "var", "size"]).unstack("t")
    if cells.isna().to_numpy().any() or (cells["size"] < 2).to_numpy().any():
        result.reason = "fewer than 2 markets of a variant in a stratum"
        return result
    weight = (cells["size"][False] + cells["size"][True]) / len(values)
    control, treatment = (weight * cells["mean"][False]).sum(), (weight * cells["mean"][True]).sum()
    var_c = (weight**2 * cells["var"][False] / cells["size"][False]).sum()
    var_t = (weight**2 * cells["var"][True] / cells["size"][True]).sum()
    result.control_value, result.treatment_value = float(control), float(treatment)
    result.difference = float(treatment - control)
    result.se, result.se_control = math.sqrt(var_c + var_t), math.sqrt(var_c)
    if result.se == 0:
        result.reason = "zero variance in both variants"
        return result
    z = result.difference / result.se
    result.statistic, result.p_value = z, float(2 * special.ndtr(-abs(z)))
    half = _z(alpha) * result.se
    result.ci_low, result.ci_high = result.difference - half, result.difference + half
    return result


# --- one experiment ----------------------------------------------------------------------------


def _strata(markets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """League, market type and randomisation stratum of each market: the stratum is the
    assignment's stratification_key ('league|market_type'); league and market_type come from
    their columns, else from the key."""
    size = len(markets)
    if "stratification_key" in markets:
        key = markets["stratification_key"].astype(object).to_numpy()
    else:
        key = np.full(size, None, dtype=object)
    parts = [str(k).split("|", 1) if k is not None else [] for k in key]
    from_key = [[p[i] if len(p) > i else None for p in parts] for i in (0, 1)]
    columns = []
    for i, name in enumerate(("league", "market_type")):
        given = markets[name].astype(object).to_numpy() if name in markets else [None] * size
        columns.append(
            np.array(
                [
                    g if g is not None and g == g else k
                    for g, k in zip(given, from_key[i], strict=True)
                ],
                dtype=object,
            )
        )
    league, market_type = columns
    strata = np.array(
        [
            k if k is not None else f"{a}|{b}"
            for k, a, b in zip(key, league, market_type, strict=True)
        ],
        dtype=object,
    )
    return league, market_type, strata


@dataclasses.dataclass
class _Sample:
    """One experiment's markets as arrays: the unit of analysis."""

    treated: np.ndarray
    n: np.ndarray  # closed trades
    wins: np.ndarray
    pnl: np.ndarray
    league: np.ndarray
    market_type: np.ndarray
    strata: np.ndarray

    @property
    def control(self) -> np.ndarray:
        return ~self.treated


@contextlib.contextmanager
def _resampling_pool() -> Iterator[Executor]:
    """The threads the resamplings run on; on an error or an interrupt the queued ones are
    dropped instead of run to the end."""
    pool = ThreadPoolExecutor(RESAMPLING_THREADS, thread_name_prefix="resampling")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def analyze_experiment(
    markets: pd.DataFrame,
    experiment: Experiment,
    *,
    computed_at: dt.datetime | None = None,
    n_permutations: int = N_PERMUTATIONS,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> pd.DataFrame:
    """The result rows of one experiment (RESULT_COLUMNS) from its per-market outcomes: one
    row per assigned market with variant ('control' or 'treatment'), closed_trades,
    winning_trades, realized_pnl, and for post-stratification league and market_type (else
    stratification_key 'league|market_type'). Rows with another variant are ignored."""
    with _resampling_pool() as pool:
        return _analysis(
            markets,
            experiment,
            pool,
            computed_at=computed_at,
            n_permutations=n_permutations,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )()


def _analysis(
    markets: pd.DataFrame,
    experiment: Experiment,
    pool: Executor,
    *,
    computed_at: dt.datetime | None = None,
    n_permutations: int = N_PERMUTATIONS,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> Callable[[], pd.DataFrame]:
    """analyze_experiment begun: its resamplings started in `pool`; the function returned waits
    for them and gives the rows."""
    computed_at = computed_at or dt.datetime.now(dt.UTC)
    markets = markets[markets["variant"].isin(["control", "treatment"])]
    sample = _Sample(
        (markets["variant"] == "treatment").to_numpy(),
        markets["closed_trades"].to_numpy(float),
        markets["winning_trades"].to_numpy(float),
        markets["realized_pnl"].astype(float).to_numpy(),
        *_strata(markets),
    )
    started = _tests(
        sample, experiment, seed_for(experiment.name, seed), n_permutations, n_bootstrap, pool
    )
    return lambda: _rows(started(), sample, experiment, computed_at)


def _rows(
    tests: list[tuple[str, str, str, TestResult]],
    sample: _Sample,
    experiment: Experiment,
    computed_at: dt.datetime,
) -> pd.DataFrame:
    """The result rows of one experiment's tests: Holm's adjustment, verdict flags, sizes."""
    alpha = experiment.alpha
    adjusted = holm([result.p_value if role == "primary" else None for _, _, role, result in tests])
    control = {m: r for m, test, role, r in tests if role == "primary"}
    rows = []
    for (metric, test, role, result), p_adjusted in zip(tests, adjusted, strict=True):
        if role == "primary":
            significant = None if p_adjusted is None else bool(p_adjusted < alpha)
        elif role == "guardrail":
            significant = None if result.p_value is None else bool(result.p_value < SRM_ALPHA)
        else:
            significant = None
        row = {
            "experiment_name": experiment.name,
            "metric": metric,
            "test": test,
            "role": role,
            "control_value": _finite(result.control_value),
            "treatment_value": _finite(result.treatment_value),
            "difference": _finite(result.difference),
            "relative_lift": _finite(_relative_lift(test, result, control.get(metric), alpha)),
            "ci_low": _finite(result.ci_low),
            "ci_high": _finite(result.ci_high),
            "statistic": _finite(result.statistic),
            "p_value": _finite(result.p_value),
            "p_adjusted": _finite(p_adjusted),
            "significant": significant,
            "alpha": float(alpha),
            "mde": None if role in ("guardrail", "diagnostic") else mde(result.se, alpha),
            "reason": result.reason,
            "data_through": experiment.data_through,
            "computed_at": computed_at,
        }
        rows.append(row | _sizes(sample))
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def _tests(
    s: _Sample,
    experiment: Experiment,
    seed: int,
    n_permutations: int,
    n_bootstrap: int,
    pool: Executor,
) -> Callable[[], list[tuple[str, str, str, TestResult]]]:
    """(metric, test, role, result) of every test of one experiment, in the results' order,
    from the function returned. The resamplings, each with its own generator, run in `pool`:
    NumPy draws, partitions and multiplies without the GIL, so they run side by side (the
    results are the same whatever the number of threads)."""
    alpha, c, t = experiment.alpha, s.control, s.treated

    def sides(numerator: np.ndarray, ratio: bool) -> tuple[np.ndarray, np.ndarray, bool]:
        # a ratio metric resamples (numerator, closed trades) pairs of markets together
        values = numerator + 1j * s.n if ratio else numerator
        return values[c], values[t], ratio

    permutation = pool.submit(
        permutation_test, s.pnl, t, s.strata, n_permutations=n_permutations, seed=seed
    )
    bootstraps = pool.submit(
        bootstrap_tests,
        [sides(s.wins, ratio=True), sides(s.pnl, ratio=True), sides(s.pnl, ratio=False)],
        alpha=alpha,
        n_resamples=n_bootstrap,
        seed=seed,
    )
    # In the results' order: these, the resamplings, then the two after them.
    leading = [
        (
            "assignment",
            "srm_chi2",
            "guardrail",
            srm_test(int(c.sum()), int(t.sum()), experiment.traffic_split),
        ),
        ("win_rate", "delta_z", "primary", delta_test(s.wins[c], s.n[c], s.wins[t], s.n[t], alpha)),
        (
            "pnl_per_trade",
            "delta_z",
            "primary",
            delta_test(s.pnl[c], s.n[c], s.pnl[t], s.n[t], alpha),
        ),
        ("pnl_per_market", "welch_t", "primary", welch_test(s.pnl[c], s.pnl[t], alpha)),
    ]
    trailing = [
        (
            "pnl_per_market",
            "post_stratified",
            "secondary",
            post_stratified_test(s.pnl, t, s.league, s.market_type, alpha),
        ),
        ("pnl_per_market", "mann_whitney_u", "diagnostic", mann_whitney_test(s.pnl[c], s.pnl[t])),
    ]

    def collect() -> list[tuple[str, str, str, TestResult]]:
        win_rate, pnl_per_trade, pnl_per_market = bootstraps.result()
        return [
            *leading,
            ("win_rate", "bootstrap_bca", "secondary", win_rate),
            ("pnl_per_trade", "bootstrap_bca", "secondary", pnl_per_trade),
            ("pnl_per_market", "bootstrap_bca", "secondary", pnl_per_market),
            ("pnl_per_market", "permutation", "secondary", permutation.result()),
            *trailing,
        ]

    return collect


def _relative_lift(
    test: str, result: TestResult, primary: TestResult | None, alpha: float
) -> float | None:
    """difference / control value, only where the primary test of the metric shows the
    control's mean positive beyond its confidence bound (else a ratio of noise), and never for
    Mann-Whitney (no mean) or the assignment check."""
    if (
        test == "mann_whitney_u"
        or primary is None
        or result.difference is None
        or result.control_value is None
        or primary.se_control is None
        or primary.control_value is None
        or not primary.control_value - _z(alpha) * primary.se_control > 0
        or not result.control_value > 0
    ):
        return None
    return result.difference / result.control_value


def _sizes(s: _Sample) -> dict[str, int]:
    return {
        "n_control_markets": int(s.control.sum()),
        "n_treatment_markets": int(s.treated.sum()),
        "n_control_trades": int(s.n[s.control].sum()),
        "n_treatment_trades": int(s.n[s.treated].sum()),
    }


def analyze(
    outcomes: pd.DataFrame,
    experiments: Iterable[Experiment],
    *,
    computed_at: dt.datetime | None = None,
    **options,
) -> pd.DataFrame:
    """The result rows of every experiment; one without markets gets rows with reasons."""
    computed_at = computed_at or dt.datetime.now(dt.UTC)
    empty = pd.DataFrame(columns=["variant", *INPUT_COLUMNS[1:]])
    groups = dict(tuple(outcomes.groupby("experiment_name"))) if len(outcomes) else {}
    with _resampling_pool() as pool:
        begun = [
            _analysis(groups.get(e.name, empty), e, pool, computed_at=computed_at, **options)
            for e in experiments
        ]
        frames = [rows() for rows in begun]
    if not frames:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    return pd.concat(frames, ignore_index=True)


# --- reading the results ---------------------------------------------------------------------


def _money(value: float) -> str:
    return f"{'-' if value < 0 else '+'}${abs(value):,.2f}"


def _format(metric: str, value: float, signed: bool = True) -> str:
    if metric == "win_rate":
        return f"{value * 100:+.2f} pp" if signed else f"{value * 100:.2f}%"
    return _money(value) if signed else f"${value:,.2f}"


def verdict(results: pd.DataFrame, experiment: Experiment) -> str:
    """One line per experiment: the primary metric's decision, SRM state, sample sizes."""
    rows = results[results["experiment_name"] == experiment.name]
    by_key = {(r.metric, r.test): r for r in rows.itertuples()}
    srm = by_key.get(("assignment", "srm_chi2"))
    metric = experiment.primary_metric
    if metric not in PRIMARY_TESTS:
        metric = "pnl_per_market"
    main = by_key.get((metric, PRIMARY_TESTS[metric]))
    parts = [f"{experiment.name}:"]
    if srm is not None and srm.significant:
        parts.append(
            f"SAMPLE RATIO MISMATCH (p = {srm.p_value:.2g}): assignment is broken, "
            "do not trust the comparison;"
        )
    if main is None or main.p_value is None or pd.isna(main.p_value):
        reason = "no data" if main is None else main.reason
        parts.append(f"{metric} not testable ({reason}).")
    else:
        level = f"{(1 - experiment.alpha) * 100:g}%"
        interval = f"{level} CI {_format(metric, main.ci_low)} to {_format(metric, main.ci_high)}"
        if main.significant:
            side = "treatment better" if main.difference > 0 else "treatment worse"
            parts.append(f"{side} on {metric}, {_format(metric, main.difference)}")
        else:
            parts.append(
                f"no significant difference on {metric}, {_format(metric, main.difference)}"
            )
        detail = f"({interval}, p = {main.p_value:.3g}, Holm p = {main.p_adjusted:.3g}"
        if main.mde is not None and not pd.isna(main.mde):
            detail += f", MDE {_format(metric, main.mde, signed=False)}"
        parts.append(detail + ");")
        others = [
            r.metric
            for r in rows.itertuples()
            if r.role == "primary" and r.metric != metric and r.significant
        ]
        if others:
            parts.append("also significant: " + ", ".join(others) + ";")
    if srm is not None and not pd.isna(srm.p_value) and not srm.significant:
        parts.append(f"SRM ok (p = {srm.p_value:.2g});")
    first = rows.iloc[0] if len(rows) else None
    if first is not None:
        parts.append(
            f"{first.n_control_markets:,} vs {first.n_treatment_markets:,} markets, "
            f"{first.n_control_trades:,} vs {first.n_treatment_trades:,} closed trades."
        )
    return " ".join(parts)


def markdown_table(results: pd.DataFrame) -> str:
    """The result rows as a markdown table (Dagster metadata)."""
    columns = [
        "experiment_name",
        "metric",
        "test",
        "control_value",
        "treatment_value",
        "difference",
        "ci_low",
        "ci_high",
        "statistic",
        "p_value",
        "p_adjusted",
        "significant",
        "reason",
    ]

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in results.itertuples():
        lines.append("| " + " | ".join(cell(getattr(row, c)) for c in columns) + " |")
    return "\n".join(lines)
