"""Thin Mesa agents: named views on rows of the model's arrays.

State lives in :mod:`copsim.engine.state` tables; an agent holds only its ``row``.
Attribute access reads or writes the row, so ``model.agents``,
``AgentSet.select``, ``DataCollector`` agent reporters and SolaraViz keep
working. Agents have no behaviour: the weekly rules are kernels.

Categories read as names, as a Mesa user reads them (``region``, ``sector``,
``firm_type``, ``mode``, ``problem``); their integer codes in the arrays are
``region_code`` and ``sector_code``. Relations give agents: ``Group.members``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from copsim.dtypes import FirmType, GroupMode, Topic

if TYPE_CHECKING:
    from copsim.engine.shape import ModelShape


class Field:
    """A descriptor mapping an attribute to ``model.<table>.<column>[row]``."""

    def __init__(self, table: str, column: str | None = None) -> None:
        self.table = table
        self.column = column

    def __set_name__(self, owner: type, name: str) -> None:
        self.column = self.column or name

    def __get__(self, agent: Any, owner: type | None = None) -> Any:
        if agent is None:
            return self
        value = getattr(getattr(agent.model, self.table), self.column)[agent.row]
        return value.item() if isinstance(value, np.generic) else value

    def __set__(self, agent: Any, value: Any) -> None:
        getattr(getattr(agent.model, self.table), self.column)[agent.row] = value


class Entrepreneur(mesa.Agent):
    """A micro-entrepreneur and their firm (a row of ``model.firms``)."""

    region_code = Field("firms", "region")
    sector_code = Field("firms", "sector")
    employees = Field("firms")
    knowledge = Field("firms")
    problem_topic = Field("firms")
    problem_severity = Field("firms")
    assets = Field("firms")
    confidence = Field("firms")
    wellbeing = Field("firms")
    cash = Field("firms")
    revenue = Field("firms")
    cost = Field("firms")
    alive = Field("firms")
    group = Field("firms")
    felt_value = Field("firms")
    meetings_attended = Field("firms")

    def __init__(self, model: ModelShape, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def region(self) -> str:
        """The name of the firm's region (as in the scenario's ``regions``)."""
        return self.model.scenario.regions[self.region_code].name

    @property
    def sector(self) -> str:
        """The name of the firm's sector (as in the scenario's ``environment.sectors``)."""
        return self.model.scenario.environment.sectors[self.sector_code].name

    @property
    def firm_type(self) -> str:
        """solo, lifestyle, family, growth or startup."""
        return FirmType(int(self.model.firms.firm_type[self.row])).name.lower()

    @property
    def is_member(self) -> bool:
        """Whether the firm belongs to a group now."""
        return self.group >= 0

    @property
    def knowledge_mean(self) -> float:
        """Mean knowledge over the topics."""
        return float(self.model.firms.knowledge[self.row].mean())

    @property
    def problem(self) -> str | None:
        """The topic of the current problem, if any."""
        topic = self.problem_topic
        return Topic(topic).name.lower() if topic >= 0 else None


class Group(mesa.Agent):
    """A core group (a row of ``model.groups``)."""

    region_code = Field("groups", "region")
    cadence = Field("groups")
    alive = Field("groups")
    facilitation = Field("groups")
    memory = Field("groups")

    def __init__(self, model: ModelShape, row: int, name: str) -> None:
        super().__init__(model)
        self.row = row
        self.name = name

    @property
    def region(self) -> str:
        """The name of the group's region."""
        return self.model.scenario.regions[self.region_code].name

    @property
    def mode(self) -> str:
        """physical, online, hybrid or communal_space."""
        return GroupMode(int(self.model.groups.mode[self.row])).name.lower()

    @property
    def member_rows(self) -> list[int]:
        """Rows of the current members in ``model.firms``, in row order."""
        return self.model.rosters.members(self.row)

    @property
    def members(self) -> mesa.agent.AgentSet:
        """The current members, as Entrepreneur agents (needs the model's agent views)."""
        views = self.model.firm_agents
        if not self.model.agent_views:
            raise RuntimeError("Group.members needs agent views (CopModel(agent_views=True)); "
                               "Group.member_rows gives the members' rows without them")
        return mesa.agent.AgentSet([views[row] for row in self.member_rows],
                                   random=self.model.random)


class Facilitator(mesa.Agent):
    """A facilitator type of the scenario (advisory service, researcher)."""

    def __init__(self, model: ModelShape, key: str) -> None:
        super().__init__(model)
        self.key = key
        spec = model.scenario.facilitators[key]
        self.kind = spec.kind
        self.skill = spec.skill
        self.outside_knowledge = spec.outside_knowledge
        self.eur_per_hour = spec.eur_per_hour

    @property
    def funded_hours(self) -> float:
        """Facilitation hours funded this week, over all groups."""
        return self.model.week_result.facilitator_hours.get(self.key, (0.0, 0.0))[0]

    @property
    def recruitment_hours(self) -> float:
        """Recruitment hours funded this week, over all groups."""
        return self.model.week_result.facilitator_hours.get(self.key, (0.0, 0.0))[1]
