"""What each dbt test checks, in a sentence, for its asset check in the Dagster UI: the test's
own `description` when it has one, otherwise one said from its generic test and arguments."""

from collections.abc import Mapping
from typing import Any


def _columns(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


# The `where` of the tests that read only what is not validated yet (macros/test_windows.sql).
WINDOW_PLACEHOLDER = "__landing_window__"

SENTENCES = {
    "not_null": lambda a: f"{a['column_name']} is never null.",
    "unique": lambda a: f"{a['column_name']} is unique.",
    "unique_combination_of_columns": lambda a: f"One row per ({_columns(a['columns'])}).",
    "accepted_values": lambda a: f"{a['column_name']} is one of {_columns(a['values'])}.",
    "relationships": lambda a: f"Every {a['column_name']} is a {a['field']} of {a['to']}.",
    "expression_is_true": lambda a: f"Every row satisfies: {' '.join(a['expression'].split())}.",
    "has_no_rows": lambda a: "No rows.",
    "scd_ranges_do_not_overlap": lambda a: (
        f"The versions of one {_columns(a['key'])} cover disjoint, non-empty ranges."
    ),
}


def describe_test(node: Mapping[str, Any]) -> str:
    metadata = node.get("test_metadata") or {}
    name = metadata.get("name")
    arguments = {k: v for k, v in (metadata.get("kwargs") or {}).items() if k != "model"}
    sentence = node.get("description") or ""
    if not sentence and name in SENTENCES:
        try:
            sentence = SENTENCES[name](arguments)
        except (KeyError, TypeError, AttributeError):  # arguments of another shape
            sentence = ""  # said as they are, below
    if not sentence:
        sentence = f"dbt test {name or node['name']}" + (f" ({arguments})" if arguments else "")
    where = node.get("config", {}).get("where")
    if where == WINDOW_PLACEHOLDER:
        sentence += (
            " On the rows not validated yet and the run's landing window"
            " (every row on a full refresh)."
        )
    elif where:
        sentence += f" On the rows where {where}."
    if str(node.get("config", {}).get("severity", "error")).lower() == "warn":
        sentence += " Warns (does not block)."
    return sentence
