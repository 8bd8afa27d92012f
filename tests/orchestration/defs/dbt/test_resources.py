import inspect

from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.resources import DbtCli


def test_what_the_cli_resource_skips_is_still_dagster_dbts_to_skip():
    # DbtCli replaces two private steps of dagster-dbt's resource (asking dbt its version, an
    # adapter for column metadata): a dagster-dbt that renamed them would run them again, one
    # that changed the adapter's call would fail on ours at every step.
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert hasattr(DbtCliResource, name), name
        assert getattr(DbtCli, name) is not getattr(DbtCliResource, name), name
    ours, theirs = (
        inspect.signature(cls._initialize_dbt_core_adapter) for cls in (DbtCli, DbtCliResource)
    )
    assert list(ours.parameters) == list(theirs.parameters)
