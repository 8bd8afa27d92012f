"""What `precog run` ends with: what the warehouse holds now and where to look at it."""

from __future__ import annotations

from precog.warehouse import database

# The marts a desk reads, in the order a reader meets them (the README's BI contract).
MARTS = [
    "mv_daily_pnl",
    "mv_current_positions",
    "mv_strategy_performance",
    "mv_model_accuracy",
    "mv_market_edges",
    "mv_ab_test_results",
    "performance_tracking",
]


def summary(target: database.Warehouse) -> str:
    with database.transaction(target) as cursor:
        counts = []
        for mart in MARTS:
            cursor.execute("select to_regclass(%s) is not null", (f"marts.{mart}",))
            if cursor.fetchone()[0]:
                cursor.execute(f"select count(*) from marts.{mart}")  # names from MARTS only
                counts.append(f"{mart} {cursor.fetchone()[0]:,}")
        quarantined = []
        cursor.execute("select to_regclass('staging.quarantine') is not null")
        if cursor.fetchone()[0]:
            cursor.execute(
                "select source_table, reason, count(*) from staging.quarantine"
                " group by 1, 2 order by 3 desc, 1, 2"
            )
            quarantined = [f"{n:,} {table} ({reason})" for table, reason, n in cursor.fetchall()]
    lines = [
        "",
        "precog run: done. Rows in schema marts: " + (", ".join(counts) or "none yet") + ".",
        "Quarantined (kept in staging.quarantine with the row and its reason): "
        + ("; ".join(quarantined) if quarantined else "none")
        + ".",
        "",
        "Where to look:",
        "  the dashboard:   .venv/bin/precog dashboard   (then http://127.0.0.1:8050/)",
        '  the Dagster UI:  eval "$(.venv/bin/precog db env)" && .venv/bin/dg dev',
        '  a BI tool or psql: psql "$(.venv/bin/precog db url --role bi_reader)"',
    ]
    return "\n".join(lines)
