"""What the checks read from the dbt manifest: which node a relation is, and a source's
freshness. Pure functions of the parsed manifest (a dict), so they are tested without dbt."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import dagster as dg

from orchestration.defs.dbt.assets import PrecogTranslator
from orchestration.defs.dbt.resources import dbt_project

Node = Mapping[str, Any]

# dbt's freshness periods (dbt_common.contracts.util.TimePeriod).
PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@cache
def load_manifest() -> dict[str, Any]:
    """target/manifest.json (parsed first if a fresh clone has none), read once per process."""
    return json.loads(dbt_project().manifest_path.read_text())


def relation_of(node: Node) -> str:
    """`schema.identifier` of a model or source, without the database: the relation as the
    warehouse in use names it, whichever database the manifest was parsed against."""
    name = node["identifier"] if node["resource_type"] == "source" else node["alias"]
    return f"{node['schema']}.{name}"


def find_relation(manifest: Mapping[str, Any], relation: str) -> Node | None:
    """The model or source that is `relation` (`schema.name`), or None if the project has none."""
    for node in (*manifest["nodes"].values(), *manifest["sources"].values()):
        relational = node["resource_type"] in ("model", "source", "snapshot", "seed")
        if relational and relation_of(node) == relation:
            return node
    return None


def asset_key(manifest: Mapping[str, Any], node: Node) -> dg.AssetKey:
    """The node's Dagster asset key, as the dbt assets name it."""
    return PrecogTranslator().get_asset_spec(manifest, node["unique_id"], dbt_project()).key


def threshold(spec: Mapping[str, Any] | None) -> timedelta | None:
    """A dbt freshness threshold (`{count: 2, period: hour}`) as a timedelta; None if unset."""
    if not spec or spec.get("count") is None or spec.get("period") is None:
        return None
    if spec["period"] not in PERIODS:
        raise ValueError(f"unknown dbt freshness period {spec['period']!r}")
    return spec["count"] * PERIODS[spec["period"]]


@dataclass(frozen=True)
class SourceFreshness:
    """A dbt source's freshness: how old its newest `loaded_at_field` may get before a warning
    and before an error (either may be None), and dbt's optional `filter` (a WHERE clause)."""

    relation: str
    loaded_at_field: str
    warn_after: timedelta | None
    error_after: timedelta | None
    filter: str | None = None

    def severity(self, age: timedelta) -> dg.AssetCheckSeverity | None:
        """ERROR past error_after, WARN past warn_after, None while fresh (as dbt: strictly
        older than the threshold)."""
        if self.error_after is not None and age > self.error_after:
            return dg.AssetCheckSeverity.ERROR
        if self.warn_after is not None and age > self.warn_after:
            return dg.AssetCheckSeverity.WARN
        return None


def source_freshness(source: Node) -> SourceFreshness | None:
    """The freshness a dbt source declares (config or, in older manifests, the node); None
    without thresholds or a loaded_at_field, as `dbt source freshness` skips those."""
    config = source.get("config") or {}
    spec = config.get("freshness") or source.get("freshness") or {}
    loaded_at_field = config.get("loaded_at_field") or source.get("loaded_at_field")
    warn_after, error_after = threshold(spec.get("warn_after")), threshold(spec.get("error_after"))
    if loaded_at_field is None or (warn_after is None and error_after is None):
        return None
    return SourceFreshness(
        relation=relation_of(source),
        loaded_at_field=loaded_at_field,
        warn_after=warn_after,
        error_after=error_after,
        filter=spec.get("filter"),
    )


def sources_with_freshness(manifest: Mapping[str, Any]) -> list[tuple[Node, SourceFreshness]]:
    """Every source of the project that declares a freshness, in relation order."""
    found = [
        (source, freshness)
        for source in manifest["sources"].values()
        if (freshness := source_freshness(source)) is not None
    ]
    return sorted(found, key=lambda pair: pair[1].relation)


def source_parents(manifest: Mapping[str, Any], model: Node) -> list[Node]:
    """The sources a model reads directly."""
    return [
        manifest["sources"][unique_id]
        for unique_id in model["depends_on"]["nodes"]
        if unique_id in manifest["sources"]
    ]
