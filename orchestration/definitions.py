"""The Dagster code location: every module under `defs/` contributes its definitions (`dg list
defs` shows them). Nothing is read or run when this module is imported: the dbt manifest is
loaded when Dagster asks for the definitions."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
