"""The peer baseline: the weekly mechanics of docs/odd.md as a Mesa user would write them.

An idiomatic Mesa 3.3.1 model, no numba and no vectorised tricks: every firm is a
``mesa.Agent`` whose ``step`` is its business week (odd.md 7.1), activated with
``shuffle_do``; trust is a dict of dicts; weekly outputs come from a
``mesa.DataCollector`` with model reporters that loop over the agents. Groups of
``GROUP_SIZE`` members meet every ``cadence_weeks`` with attendance (7.3), a host and a
theme (7.4), open discussion with absorptive-capacity learning (7.4, 7.6), pairwise
trust that grows at meetings and decays without contact (7.7), felt value and
support from what attendees got (7.9), and referrals through business contacts in the
firm's region (7.19: each week a firm reads its contacts' performance, weighted by
strength, and its next week's revenue follows). It has no Wenger activities besides the
open discussion, no ventures or partnerships, recruitment, entry or ledger: copsim does
those in addition, so the comparison in ``benchmarks/bench.py`` favours this model.

Parameters are read from a copsim scenario (the values of odd.md Appendix B), so the
two models run the same numbers; the random draws differ (``model.random``, per use).
"""

from __future__ import annotations

import math

import mesa

from copsim.engine.params import build_params
from copsim.scenario.schema import Scenario

GROUP_SIZE = 16
N_TOPICS = 8
PHYSICAL = 0  # modes in the order of copsim.dtypes.GroupMode


class Firm(mesa.Agent):
    """A micro-entrepreneur and its business (odd.md 2 and 7.1)."""

    def __init__(self, model: ReferenceModel, region: int, sector: int, firm_type: int) -> None:
        super().__init__(model)
        s, rnd = model.scenario.firms, model.random
        self.region, self.sector, self.firm_type = region, sector, firm_type
        low, high = s.employees_min_by_type[firm_type], s.employees_max_by_type[firm_type]
        self.employees = rnd.randint(low, high)
        self.knowledge = [min(max(rnd.gauss(s.knowledge_mean, s.knowledge_sd), 0.02), 0.98)
                          for _ in range(N_TOPICS)]
        self.knowledge_start = list(self.knowledge)
        self.confidence = self.confidence_base = min(max(rnd.gauss(s.confidence_mean, s.confidence_sd), 0.05), 0.95)
        self.revenue_base = (model.scenario.environment.sectors[sector].revenue_eur_per_week
                             * rnd.lognormvariate(0.0, s.revenue_dispersion))
        self.revenue = self.revenue_base * (1.0 + self.employees * s.revenue_per_employee)
        self.cost = self.revenue_base * s.cost_share + self.employees * s.wage_eur_per_week
        self.cash = s.cash_weeks * self.cost
        self.wellbeing = s.wellbeing_start
        self.problem_topic, self.problem_severity = -1, 0.0
        self.support = self.hire_readiness = self.innovation_boost = 0.0
        self.group: CopGroup | None = None
        self.felt_value = model.scenario.membership.initial_felt_value
        self.last_hosted = -1
        self.contacts: list[Firm] = []
        self.referral = 0.0
        self.alive = True

    def performance(self) -> float:
        """This week's revenue relative to the firm's normal revenue, minus 1."""
        normal = self.revenue_base * (1.0 + self.employees * self.model.contact_p.revenue_per_employee)
        return self.revenue / normal - 1.0 if normal > 0.0 else 0.0

    def refer(self) -> None:
        """Referrals (odd.md 7.19): the strength-weighted mean performance of the firm's
        living contacts, its business contacts and the ties it made in meetings."""
        p = self.model.contact_p
        weights = {c: p.strength for c in self.contacts if c.alive}
        for other, trust in self.model.trust.get(self, {}).items():
            if other.alive and trust >= p.tie_threshold and trust > weights.get(other, 0.0):
                weights[other] = trust
        total = sum(weights.values())
        self.referral = (p.referral_effect * sum(w * c.performance() for c, w in weights.items()) / total
                         if total > 0.0 else 0.0)

    def step(self) -> None:
        """One business week (odd.md 7.1)."""
        p, rnd = self.model.business, self.random
        for t in range(N_TOPICS):
            if self.knowledge[t] > self.knowledge_start[t]:
                self.knowledge[t] -= p.knowledge_decay * (self.knowledge[t] - self.knowledge_start[t])
        k_mean = sum(self.knowledge) / N_TOPICS
        demand = self.model.demand
        vol = p.volatility_by_sector[self.sector]
        noise = 1.0 + vol * math.sqrt(3.0) * (2.0 * rnd.random() - 1.0)
        rev = (self.revenue_base * (1.0 + self.employees * p.revenue_per_employee) * demand * noise
               * (1.0 + p.knowledge_effect * (k_mean - p.knowledge_reference)))
        rev *= 1.0 + self.referral
        if self.problem_topic >= 0:
            rev *= 1.0 - p.problem_penalty * self.problem_severity
        self.revenue = max(rev, 0.0)
        self.cost = self.revenue_base * p.cost_share + self.employees * p.wage
        self.cash += self.revenue - self.cost

        hazard = p.exit_hazard * (1.0 - p.resilience_effect * (2.0 * self.wellbeing - 1.0))
        if self.cash < 0.0:
            hazard *= p.distress_multiplier
        if rnd.random() < hazard:
            self.model.exit(self)
            return

        if self.problem_topic < 0:
            if rnd.random() < p.problem_rate:
                scaled = rnd.random() * N_TOPICS
                self.problem_topic = int(scaled)
                self.problem_severity = p.problem_severity_min + (1.0 - p.problem_severity_min) * (scaled - int(scaled))
        elif rnd.random() < p.self_solve_rate * self.knowledge[self.problem_topic]:
            self.problem_topic, self.problem_severity = -1, 0.0

        buffer = min(max(self.cash / (p.wellbeing_buffer_weeks * self.cost + 1.0), 0.0), 1.0)
        target = p.wellbeing_base + p.wellbeing_cash * buffer + p.support_effect * self.support
        self.support *= 1.0 - p.support_decay
        if self.problem_topic >= 0:
            target -= p.wellbeing_problem * self.problem_severity
        self.wellbeing += p.wellbeing_drift * (target - self.wellbeing)
        self.confidence += p.confidence_drift * (self.confidence_base - self.confidence)

        self.hire_readiness *= 1.0 - p.readiness_decay
        if self.cash < 0.0 and self.employees > 0:
            if rnd.random() < p.layoff_rate:
                self.employees -= 1
        elif (self.employees < 9 and self.confidence >= p.hire_confidence
              and self.cash > p.hire_cash_weeks * self.cost):
            p_hire = (p.hire_rate * p.growth_by_type[self.firm_type]
                      * (1.0 + p.readiness_effect * self.hire_readiness) * k_mean / p.knowledge_reference)
            if rnd.random() < p_hire:
                self.cash -= p.hire_cost
                self.hire_readiness = 0.0
                if rnd.random() >= p.hire_failure:
                    self.employees += 1

        if rnd.random() < p.innovation_rate * self.confidence:
            chance = (p.innovation_success + self.innovation_boost
                      + p.innovation_knowledge_effect * (k_mean - p.knowledge_reference))
            if rnd.random() < chance:
                self.revenue_base *= 1.0 + p.innovation_gain
        self.innovation_boost *= p.innovation_boost_retention


class CopGroup:
    """A community of practice: its members and when it meets next."""

    def __init__(self, members: list[Firm], cadence: int) -> None:
        self.members = members
        self.cadence = cadence
        self.next_meeting = 0
        for firm in members:
            firm.group = self


class ReferenceModel(mesa.Model):
    """Firms and groups of a copsim scenario, one week per step, the Mesa way."""

    def __init__(self, scenario: Scenario, n_firms: int, n_groups: int, seed: int = 1) -> None:
        super().__init__(seed=seed)
        self.scenario = scenario
        params = build_params(scenario)
        self.business, self.meeting, self.trust_p = params.business, params.meeting, params.trust
        self.contact_p = params.contacts
        self.week = 0
        self.demand = 1.0
        self.trust: dict[Firm, dict[Firm, float]] = {}  # trust[i][j], both directions
        self.last_met: dict[Firm, dict[Firm, int]] = {}
        sectors = [x.share for x in scenario.environment.sectors]
        types = [scenario.firms.share_solo, scenario.firms.share_lifestyle, scenario.firms.share_family,
                 scenario.firms.share_growth, scenario.firms.share_startup]
        regions = [r.firms for r in scenario.regions]
        for _ in range(n_firms):
            Firm(self, self.random.choices(range(len(regions)), regions)[0],
                 self.random.choices(range(len(sectors)), sectors)[0],
                 self.random.choices(range(len(types)), types)[0])
        firms = list(self.agents_by_type[Firm])
        self.link_contacts(firms)
        chosen = self.random.sample(firms, min(n_groups * GROUP_SIZE, len(firms)))
        self.groups = [CopGroup(chosen[g::n_groups], 4) for g in range(n_groups)]
        self.datacollector = mesa.DataCollector(model_reporters={
            "firms_alive": lambda m: len(m.agents_by_type[Firm]),
            "members": lambda m: sum(1 for a in m.agents_by_type[Firm] if a.group is not None),
            "knowledge_mean": lambda m: sum(sum(a.knowledge) / N_TOPICS for a in m.agents_by_type[Firm])
            / max(len(m.agents_by_type[Firm]), 1),
            "revenue_eur": lambda m: sum(a.revenue for a in m.agents_by_type[Firm]),
            "ties": lambda m: sum(1 for i in m.trust for tau in m.trust[i].values()
                                  if tau >= m.trust_p.tie_threshold) // 2,
        })

    def link_contacts(self, firms: list[Firm]) -> None:
        """Business contacts (odd.md 5): each firm starts about half the mean degree with
        firms of its region, of its own sector with the same-sector share, while both have room."""
        c = self.scenario.contacts
        room = math.ceil(c.mean_degree) + 4
        by_region: dict[int, list[Firm]] = {}
        for firm in firms:
            by_region.setdefault(firm.region, []).append(firm)
        for firm in firms:
            wanted = int(c.mean_degree / 2) + (self.random.random() < c.mean_degree / 2 % 1)
            for _ in range(wanted):
                if len(firm.contacts) >= room:
                    break
                same = self.random.random() < c.same_sector_share
                for _try in range(20 * len(self.scenario.environment.sectors)):
                    other = self.random.choice(by_region[firm.region])
                    if (other is not firm and (other.sector == firm.sector) == same
                            and other not in firm.contacts and len(other.contacts) < room):
                        firm.contacts.append(other)
                        other.contacts.append(firm)
                        break

    def step(self) -> None:
        """Business, meetings, trust decay, referrals, outputs."""
        self.agents_by_type[Firm].shuffle_do("step")
        for group in self.groups:
            if group.next_meeting <= self.week:
                group.next_meeting = self.week + group.cadence
                self.hold_meeting(group)
        self.decay_trust()
        self.agents_by_type[Firm].do("refer")
        self.datacollector.collect(self)
        self.week += 1

    def exit(self, firm: Firm) -> None:
        """A firm closes: it leaves its group and the model."""
        if firm.group is not None:
            firm.group.members.remove(firm)
        firm.alive = False
        firm.remove()

    def tau(self, i: Firm, j: Firm) -> float:
        """Trust between two firms (0 if they never met)."""
        return self.trust.get(i, {}).get(j, 0.0)

    def hold_meeting(self, group: CopGroup) -> None:
        """Attendance, host and theme, open discussion, trust, felt value (odd.md 7.3-7.9)."""
        p = self.meeting
        attendees = []
        for firm in group.members:
            others = [o for o in group.members if o is not firm]
            ties = sum(self.tau(firm, o) for o in others) / len(others) if others else 0.0
            x = (p.attend_base + p.attend_felt_value * firm.felt_value
                 - p.attend_travel * p.sparsity_by_region[firm.region] * p.travel_by_mode[PHYSICAL]
                 + p.attend_ties * ties
                 - p.attend_workload * (p.workload_by_type[firm.firm_type]
                                        + p.distress_workload * (firm.cash < 0.0)))
            if self.random.random() < 1.0 / (1.0 + math.exp(-x)):
                attendees.append(firm)
        if len(attendees) < 2:
            return
        host = min(attendees, key=lambda a: a.last_hosted)
        host.last_hosted = self.week
        theme = (host.problem_topic if host.problem_topic >= 0
                 else max(range(N_TOPICS), key=lambda t: host.knowledge[t]))
        rate = p.learning_rate * p.learning_by_mode[PHYSICAL]
        before = {a: a.knowledge[theme] for a in attendees}
        value = dict.fromkeys(attendees, p.peer_value)
        for i in attendees:
            for j in attendees:
                if before[j] > before[i]:
                    weight = rate * max(self.tau(i, j), p.stranger_trust) / (len(attendees) - 1)
                    x = (before[j] - before[i]) / p.peak_gap
                    k = min(i.knowledge[theme] + weight * x * math.exp(1.0 - x), before[j], 1.0)
                    if k > i.knowledge[theme]:
                        value[i] += p.value_per_knowledge * (k - i.knowledge[theme])
                        i.knowledge[theme] = k
        gain = min(self.trust_p.meeting_gain * p.trust_by_mode[PHYSICAL], 1.0)
        for i in attendees:
            for j in attendees:
                if i is not j:
                    t = self.tau(i, j)
                    self.trust.setdefault(i, {})[j] = t + gain * (1.0 - t)
                    self.last_met.setdefault(i, {})[j] = self.week
        for a in attendees:
            got = min(value[a], 1.0)
            a.felt_value += p.felt_value_memory * (got - a.felt_value)
            a.support += p.support_gain * (got - a.support)

    def decay_trust(self) -> None:
        """Ties without contact this week lose trust; below the dormant level it is 0."""
        tp = self.trust_p
        for i, row in self.trust.items():
            for j, t in row.items():
                if self.last_met[i][j] < self.week and t > 0.0:
                    t *= 1.0 - tp.decay
                    row[j] = t if t >= tp.dormant else 0.0


def run_reference(scenario: Scenario, n_firms: int, n_groups: int, weeks: int, seed: int = 1) -> ReferenceModel:
    """Build the reference model and step it ``weeks`` times."""
    model = ReferenceModel(scenario, n_firms, n_groups, seed)
    for _ in range(weeks):
        model.step()
    return model
