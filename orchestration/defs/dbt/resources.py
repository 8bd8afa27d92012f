"""The dbt project and the dbt CLI resource, built once when the definitions load."""

from collections.abc import Sequence
from functools import cache, cached_property
from importlib.metadata import version as installed_version

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev
from packaging import version

from precog.pipeline.dbt_runner import (
    DBT_EXECUTABLE,
    DBT_PROFILES_DIR,
    DBT_PROJECT_DIR,
    MANIFEST_PATH,
    prepare_manifest,
)


@cache
def dbt_project() -> DbtProject:
    """The project, parsed first under `dg dev`/`dagster dev` (so edits show up) or when a fresh
    clone has no manifest yet. (DbtProject.prepare_if_dev would run whichever `dbt` is first on
    PATH, not this environment's.)"""
    if using_dagster_dev() or not MANIFEST_PATH.exists():
        prepare_manifest()
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROFILES_DIR)


class DbtCli(DbtCliResource):
    """dagster-dbt's CLI resource, told dbt's version instead of asking: it runs `dbt --version`
    in a new process (about 5 s of imports) for every step that runs dbt. Our executable,
    precog-dbt, runs the dbt-core installed beside this code."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        """No dbt adapter in Dagster's process: dagster-dbt uses it only for an invocation's
        fetch_column_metadata() and fetch_row_counts(), which do nothing without it (the assets
        count rows themselves: with_row_counts), and it costs every dbt step 0.35 s (1.3 s for
        the first in a process: importing dbt) before dbt starts."""
        return None


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "dbt": DbtCli(
                project_dir=dbt_project(),
                dbt_executable=DBT_EXECUTABLE,
                # dbt's lines go to Dagster's log, where colour codes are noise. Nothing reads
                # a run's manifest.json and run_results.json (its events carry the results):
                # dbt writes the manifest twice per invocation, about 0.5 s of every step. Its
                # file log (dbt.log in the step's target folder) keeps what Dagster's log
                # shows, without the debug lines (every statement sent, about 0.5 s of the
                # hourly step); a failed step's folder keeps each node's statements in run/.
                global_config_flags=[
                    "--no-use-colors",
                    "--no-write-json",
                    "--log-level-file",
                    "info",
                ],
            )
        }
    )
