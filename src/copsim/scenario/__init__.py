"""Scenarios: the validated schema, reading TOML files and overrides, shocks, parameter tables.

Nothing here runs a model; the engine takes a :class:`~copsim.scenario.schema.Scenario`.
"""
