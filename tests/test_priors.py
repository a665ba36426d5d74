"""Priors in the scenario schema: declared ones are sound, every scaled assumption has one."""

from __future__ import annotations

import pytest

from copsim.scenario.odd_tables import is_numeric, prior_text, source_of, walk
from copsim.scenario.priors import Prior, bounds, prior_of
from copsim.scenario.schema import Membership, param


def _numeric_entries() -> list:
    return [e for e in walk() if is_numeric(e.info) and not isinstance(e.default, bool)]


def test_declared_priors_lie_within_the_schema_bounds_and_hold_the_default() -> None:
    declared = [e for e in _numeric_entries() if "prior" in (e.info.json_schema_extra or {})]
    assert len(declared) >= 10
    for e in declared:
        prior = prior_of(e.info, e.default, source_of(e.info))
        low, high = bounds(e.info)
        assert prior is not None and prior.declared
        assert low <= prior.low < prior.high <= high, e.key
        assert prior.contains(e.default), e.key


def test_every_assumption_with_a_scale_has_a_prior_around_its_value() -> None:
    for e in _numeric_entries():
        if not source_of(e.info).startswith("assumption") or not e.default:
            continue
        prior = prior_of(e.info, e.default, source_of(e.info))
        assert prior is not None, e.key
        assert prior.contains(e.default), e.key


def test_default_prior_is_half_to_one_and_a_half_times_the_value_inside_bounds() -> None:
    info = Membership.model_fields["grace_weeks"]
    assert prior_of(info, 12, "assumption") == Prior("uniform", 6.0, 18.0, declared=False)
    # acceptance declares its own; a probability's default prior is cut at 1
    share = Membership.model_fields["initial_felt_value"]
    assert prior_of(share, 0.8, "assumption") == Prior("uniform", 0.4, 1.0, declared=False)
    # a sourced value has none unless it declares one; a value of 0 has no scale
    assert prior_of(info, 12, "seed 001 (MicroENTRE chapter)") is None
    assert prior_of(info, 0, "assumption") is None


def test_odd_tables_show_declared_and_default_priors() -> None:
    rows = {e.key: prior_text(e) for e in walk()}
    assert rows["membership.leave_rate_per_week"] == "loguniform(0.005, 0.1)"
    assert rows["membership.grace_weeks"] == "uniform(6, 18)*"
    assert rows["learning.peak_gap"] == "-"


@pytest.mark.parametrize("prior, reason", [
    (("normal", 0.0, 1.0), "unknown prior shape"),
    (("uniform", 1.0, 1.0), "is empty"),
    (("loguniform", 0.0, 1.0), "positive lower end"),
])
def test_bad_prior_declarations_fail_at_declaration(prior: tuple, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        param(0.5, "-", "assumption", "x", prior=prior)
