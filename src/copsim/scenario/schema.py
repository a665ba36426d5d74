"""The scenario schema: every parameter with its unit, default and source.

A scenario file (TOML) is validated into a frozen :class:`Scenario`. Unknown keys,
wrong types and impossible values are errors (``extra="forbid"``); cross-field
rules (overlapping funding phases, a group in an unknown region ...) live in
``model_validator`` methods of the model that owns both fields.

Every field is declared through :func:`param`, which records a unit and a source
("seed: <file>: <phrase>", a paper, or "assumption") and, for calibration, a prior
(declared, or the default prior of an assumption); ``docs/odd.md`` is
generated from these records (``python -m copsim.scenario.odd_tables``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copsim.dtypes import Activity, ModeName, enum_names
from copsim.scenario.priors import Prior

SEED_GOOD_PRACTICE = "seed 002 (MicroENTRE good practice)"
SEED_CHAPTER = "seed 001 (MicroENTRE chapter)"
SEED_EKOLLEGA = "seed 004 (eKollega article)"
SEED_COMMUNAL = "seed 000 (communal training space)"
ASSUMPTION = "assumption"

WEEKS_PER_YEAR = 52
# Upper bounds of what a user could mean; larger values are typing errors (and would
# overflow the model's arithmetic or memory).
MAX_YEARS = 100
MAX_WEEKS = MAX_YEARS * WEEKS_PER_YEAR
MAX_FIRMS = 50_000_000  # per region: more than the micro-firms of any country
MAX_GROUP = 10_000  # members, delegates, founders of a group
MAX_LOGIT = 50.0  # an attendance weight beyond this makes the choice certain anyway
MAX_EUR_PER_YEAR = 1e10
MAX_CONTACTS = 24  # mean business contacts of a firm (room for them is kept per firm)


class KeyedValueError(ValueError):
    """A cross-field error that knows which key (relative to the validated object) is wrong."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def param(default: Any, unit: str, source: str, description: str,
          prior: tuple[str, float, float] | None = None, **constraints: Any) -> Any:
    """A pydantic ``Field`` that also records the unit, the source and the prior of a parameter.

    ``prior`` is ``(shape, low, high)`` (see :mod:`copsim.scenario.priors`); it is checked
    here, so a bad declaration fails at import, not in the middle of a calibration.
    """
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if prior is not None:
        Prior(*prior)
        extra["prior"] = list(prior)
    return Field(default, description=description, json_schema_extra=extra, **constraints)


class Strict(BaseModel):
    """Base of every schema object: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


class Run(Strict):
    """Horizon and output cadence."""

    years: float = param(5.0, "years", "DESIGN.md: default horizon five years", "simulated horizon", gt=0, le=MAX_YEARS)
    snapshot_every_weeks: int = param(
        13, "weeks", ASSUMPTION, "period of agent snapshots in agents.parquet", ge=1, le=MAX_WEEKS
    )
    snapshot_max_firms: int = param(
        20000, "firms", ASSUMPTION,
        "snapshots hold every firm up to this population, else members plus a fixed sample", ge=1, le=MAX_FIRMS
    )
    events_max_firms: int = param(
        1_000_000, "firms", ASSUMPTION,
        "events log every entry and exit up to this population, else those of members and the snapshot sample",
        ge=1, le=MAX_FIRMS
    )
    network_every_weeks: int = param(
        4, "weeks", ASSUMPTION, "period of the clustering measurement (held in between)", ge=1, le=MAX_WEEKS
    )

    @property
    def weeks(self) -> int:
        """Number of weekly steps in the horizon."""
        return max(1, round(self.years * WEEKS_PER_YEAR))


class Region(Strict):
    """A modelled region: its whole population of micro-firms is simulated."""

    name: str = Field(min_length=1, description="region name")
    firms: int = param(800, "firms", ASSUMPTION, "micro-firms in the region at the start", ge=1, le=MAX_FIRMS)
    sparsity: float = param(
        0.7, "0-1", f"{SEED_CHAPTER}: sparsely populated areas", "how sparse (1 = remote, long travel)", ge=0, le=1
    )


class Sector(Strict):
    """An industry with its own demand."""

    name: str = Field(min_length=1, description="sector name")
    share: float = param(0.125, "fraction", ASSUMPTION, "share of firms in this sector", ge=0, le=1)
    revenue_eur_per_week: float = param(
        2500.0, "EUR/week", "assumption (Statistics Finland micro-firm turnover order of magnitude)",
        "mean weekly revenue of a solo firm", gt=0, le=1_000_000,
    )
    demand_volatility: float = param(0.08, "fraction", ASSUMPTION, "sd of weekly demand noise", ge=0, le=1)


def _default_sectors() -> list[Sector]:
    names = ["retail", "food", "tourism", "crafts", "business_services",
             "construction", "wellbeing", "creative"]
    revenue = [2600.0, 2400.0, 2200.0, 1800.0, 2800.0, 3200.0, 1900.0, 2000.0]
    return [Sector(name=n, share=1 / 8, revenue_eur_per_week=r) for n, r in zip(names, revenue, strict=True)]


class Firms(Strict):
    """Who the entrepreneurs are at the start, and how their businesses run."""

    share_solo: float = param(0.55, "fraction", f"{SEED_EKOLLEGA}: over half are solo entrepreneurs",
                              "share of solo firms (others: lifestyle, family, growth, start-up)", ge=0, le=1)
    share_lifestyle: float = param(0.15, "fraction", ASSUMPTION, "share of lifestyle firms", ge=0, le=1)
    share_family: float = param(0.15, "fraction", ASSUMPTION, "share of family firms", ge=0, le=1)
    share_growth: float = param(0.07, "fraction", ASSUMPTION, "share of growth-oriented firms", ge=0, le=1)
    share_startup: float = param(0.08, "fraction", ASSUMPTION, "share of start-ups", ge=0, le=1)
    knowledge_mean: float = param(0.35, "0-1", ASSUMPTION, "mean initial knowledge per topic", gt=0, le=1)
    knowledge_sd: float = param(0.15, "0-1", ASSUMPTION, "sd of initial knowledge per topic", ge=0, le=1)
    asset_probability: float = param(0.25, "probability", ASSUMPTION, "chance a firm holds each shareable asset", ge=0, le=1)
    cost_share: float = param(0.88, "fraction of revenue", ASSUMPTION, "weekly running cost as a share of expected revenue", prior=("uniform", 0.75, 0.98), gt=0, le=2)
    wage_eur_per_week: float = param(700.0, "EUR/week", "assumption (Finnish median wage order)", "weekly cost of one employee", ge=0, le=100_000)
    revenue_per_employee: float = param(0.55, "fraction", ASSUMPTION, "revenue added by each employee, relative to the owner's", ge=0, le=10)
    cash_weeks: float = param(8.0, "weeks of cost", ASSUMPTION, "initial cash buffer", ge=0, le=MAX_WEEKS)
    exit_rate_per_year: float = param(0.07, "1/year", "Statistics Finland, enterprise openings and closures: about 7 % of enterprises close a year",
                                      "baseline annual exit probability", prior=("uniform", 0.04, 0.10), ge=0, le=1)
    distress_exit_multiplier: float = param(4.0, "ratio", ASSUMPTION, "exit hazard multiplier when cash is negative", prior=("uniform", 1.0, 8.0), ge=1, le=100)
    resilience_exit_effect: float = param(0.5, "fraction", f"{SEED_COMMUNAL}: resilience", "exit hazard reduction at full well-being (and increase at none), relative to well-being 0.5", ge=0, le=1)
    entry_rate_per_year: float = param(0.07, "1/year", "assumption (entries balance closures)", "new firms per year per initial firm", ge=0, le=1)
    problem_rate_per_week: float = param(0.04, "1/week", ASSUMPTION, "chance a firm without a problem gets one", ge=0, le=1)
    problem_revenue_penalty: float = param(0.10, "fraction", ASSUMPTION, "revenue lost at full problem severity", ge=0, le=1)
    self_solve_rate: float = param(0.05, "1/week", ASSUMPTION, "chance per week of solving a problem alone at full knowledge", ge=0, le=1)
    knowledge_revenue_effect: float = param(0.20, "fraction", ASSUMPTION, "revenue uplift per unit of mean knowledge above firms.knowledge_mean", ge=0, le=10)
    hire_rate_per_week: float = param(0.004, "1/week", ASSUMPTION, "base weekly chance of a hire when confident and cash-rich (times growth propensity, 1 + 4 x hire readiness, knowledge / firms.knowledge_mean)", ge=0, le=1)
    hire_confidence: float = param(0.6, "0-1", ASSUMPTION, "confidence above which a firm considers hiring", ge=0, le=1)
    innovation_rate_per_week: float = param(0.01, "1/week", ASSUMPTION, "chance of trying an innovation at full confidence", ge=0, le=1)
    innovation_success: float = param(0.3, "probability", ASSUMPTION, "base success chance of an innovation", ge=0, le=1)
    innovation_gain: float = param(0.06, "fraction", ASSUMPTION, "revenue gain of a successful innovation", ge=0, le=1)
    confidence_drift: float = param(0.01, "1/week", ASSUMPTION, "weekly pull of confidence back to its baseline", ge=0, le=1)
    wellbeing_drift: float = param(0.05, "1/week", ASSUMPTION, "weekly pull of well-being towards its target", ge=0, le=1)
    workload_by_type: list[float] = param([0.6, 0.3, 0.45, 0.5, 0.7], "0-1 by firm type", f"{SEED_CHAPTER}: limited time resources",
                                          "weekly workload of solo, lifestyle, family, growth and start-up owners (solo and start-up owners have least slack)", min_length=5, max_length=5)
    growth_by_type: list[float] = param([0.6, 0.3, 1.0, 3.0, 2.0], "ratio by firm type", ASSUMPTION,
                                        "propensity to hire of solo, lifestyle, family, growth and start-up firms (also raises initial confidence)", min_length=5, max_length=5)
    wellbeing_start: float = param(0.55, "0-1", ASSUMPTION, "well-being of a new firm", ge=0, le=1)
    wellbeing_base: float = param(0.35, "0-1", ASSUMPTION, "well-being target with no cash buffer, no support and no problem", ge=0, le=1)
    wellbeing_cash: float = param(0.3, "0-1", ASSUMPTION, "well-being target added by a full cash buffer", ge=0, le=1)
    wellbeing_buffer_weeks: float = param(8.0, "weeks of cost", ASSUMPTION, "cash that makes a full buffer for well-being", gt=0, le=MAX_WEEKS)
    wellbeing_problem: float = param(0.2, "0-1", ASSUMPTION, "well-being target lost per unit of problem severity", ge=0, le=1)
    layoff_rate_per_week: float = param(0.05, "1/week", ASSUMPTION, "chance of laying off one employee in a week with negative cash", ge=0, le=1)
    hire_cash_weeks: float = param(4.0, "weeks of cost", ASSUMPTION, "cash needed before a hire", ge=0, le=MAX_WEEKS)
    innovation_knowledge_effect: float = param(0.5, "probability per unit", ASSUMPTION, "innovation success added per unit of mean knowledge above firms.knowledge_mean", ge=0, le=10)
    innovation_boost_retention: float = param(0.98, "1/week", ASSUMPTION, "share of the innovation boost from discussing developments kept each week", ge=0, le=1)
    innovation_boost_cap: float = param(0.5, "probability", ASSUMPTION, "largest innovation boost from discussing developments", ge=0, le=1)
    argument_confidence: float = param(0.8, "fraction of hire_confidence", ASSUMPTION, "confidence, relative to firms.hire_confidence, from which peers can build the argument for a hire", ge=0, le=10)
    employees_min_by_type: list[int] = param([0, 0, 1, 1, 0], "persons by firm type", ASSUMPTION,
                                             "fewest employees at the start of solo, lifestyle, family, growth and start-up firms", min_length=5, max_length=5)
    employees_max_by_type: list[int] = param([0, 1, 4, 6, 2], "persons by firm type", ASSUMPTION,
                                             "most employees at the start, by type (uniform in between)", min_length=5, max_length=5)
    confidence_mean: float = param(0.4, "0-1", ASSUMPTION, "mean initial confidence of the firm type with the least growth propensity", ge=0, le=1)
    confidence_growth: float = param(0.2, "0-1", ASSUMPTION, "initial confidence added at the largest growth propensity (scaled by growth / max growth)", ge=0, le=1)
    confidence_sd: float = param(0.15, "0-1", ASSUMPTION, "sd of initial confidence", ge=0, le=1)
    revenue_dispersion: float = param(0.3, "log sd", ASSUMPTION, "sd of the log of a firm's revenue around its sector's mean", ge=0, le=5)
    problem_severity_min: float = param(0.3, "0-1", ASSUMPTION, "least severity of a new problem (uniform up to 1)", ge=0, le=1)
    shock_problem_effect: float = param(
        2.0, "ratio per unit of demand lost", "assumption (plausible range 0-4): a crisis brings problems",
        "problem arrival multiplied by 1 + this x (1 - demand) while demand is below normal", ge=0, le=20)
    experience_mean_years: float = param(
        10.0, "years", "assumption (range 5-15: with about 7 % of firms closing a year, a steady state has a mean firm age near 14 years)",
        "mean entrepreneurial experience of the owners of the initial firms (exponential; entrants start at 0 and gain a year a year)",
        ge=0, le=MAX_YEARS)

    @model_validator(mode="after")
    def _type_tables(self) -> Firms:
        for i, (low, high) in enumerate(zip(self.employees_min_by_type, self.employees_max_by_type, strict=True)):
            if not 0 <= low <= high <= 9:
                raise KeyedValueError(f"employees_max_by_type.{i}",
                                      "needs 0 <= employees_min_by_type <= employees_max_by_type <= 9 (micro-firms)")
        if min(self.growth_by_type) < 0 or max(self.growth_by_type) <= 0:
            raise KeyedValueError("growth_by_type", "must be non-negative with a positive largest value")
        if min(self.workload_by_type) < 0:
            raise KeyedValueError("workload_by_type", "must be non-negative")
        return self


class Hiring(Strict):
    """What peers' help with a growth decision does, and what a hire costs and risks."""

    readiness_effect: float = param(
        2.0, "ratio", "assumption (calibration range 0-4; no source measures it)",
        "hire chance multiplied by 1 + this x hire readiness", ge=0, le=20)
    readiness_decay_per_week: float = param(
        0.02, "1/week", "assumption (plausible range 0.01-0.05: a decision argued in a meeting fades within a year)",
        "weekly loss of hire readiness (share of it)", ge=0, le=1)
    cost_eur: float = param(
        3000.0, "EUR", "assumption (recruitment and induction, about 4 weeks of a wage; range 1000-6000)",
        "one-off cost of a hire, paid from cash", ge=0, le=1_000_000)
    failure_probability: float = param(
        0.2, "probability", "assumption (range 0.1-0.3: hires that do not last the trial period)",
        "chance a hire does not work out: its cost is paid, nobody stays", ge=0, le=1)


class Wellbeing(Strict):
    """What lifts an entrepreneur's well-being: support received at meetings and trust ties
    to peers, not membership itself."""

    support_effect: float = param(
        0.2, "0-1", f"{SEED_COMMUNAL}: peer support and resilience; size an assumption (range 0-0.3)",
        "added to the well-being target at full support", ge=0, le=1)
    support_gain: float = param(
        0.3, "fraction", ASSUMPTION,
        "share of the gap to a meeting's value that support closes when the firm attends", ge=0, le=1)
    support_decay_per_week: float = param(
        0.05, "1/week", "assumption (range 0.02-0.1: support fades within months without meetings)",
        "weekly loss of support (share of it)", ge=0, le=1)
    ties_effect: float = param(
        0.1, "0-1", f"{SEED_COMMUNAL}: community as part of the tribe strengthens well-being at work and resilience; size an assumption",
        "added to the well-being target at full ties (trust to living peers, see ties_for_full_effect)",
        prior=("uniform", 0.0, 0.2), ge=0, le=1)
    ties_for_full_effect: float = param(
        3.0, "trust-weighted ties", "assumption (a few close peers; range 1-6)",
        "sum of trust over a firm's ties (at the tie threshold) to living firms at which the ties effect is full",
        gt=0, le=MAX_GROUP)


class Channels(Strict):
    """Switches of the programme's channels of effect; all on except in `copsim decompose`."""

    knowledge: bool = Field(True, description="knowledge learnt raises revenue, innovation, hiring and self-solving")
    problem_solving: bool = Field(True, description="problems solved in meetings are cleared")
    ventures: bool = Field(True, description="shared-asset and joint-campaign ventures raise revenue (and cost)")
    hiring: bool = Field(True, description="confidence, hire readiness and innovation discussed in meetings take effect")
    wellbeing: bool = Field(True, description="support from meetings and ties to peers lift well-being (and so resilience)")
    customers: bool = Field(True, description="customer links found by mapping knowledge raise revenue (and cost)")
    partners: bool = Field(True, description="ties made in meetings are contacts through which firms find business partners")
    referrals: bool = Field(True, description="ties made in meetings are contacts whose markets send a firm customers")
    competition: bool = Field(True, description="direct competitors (same sector and region) share less in meetings")
    brokering: bool = Field(True, description="a coordinator's introductions across groups build ties, teach and start ventures")
    documentation: bool = Field(True, description="firms reading the network's published good practice learn from it")
    mentoring: bool = Field(True, description="what a mentor passes on in mentoring sessions (knowledge, solved problems, confidence, advice) takes effect")


class Contacts(Strict):
    """Every firm's business contacts in its region: customers, suppliers, sector neighbours (docs/odd.md 7.19)."""

    mean_degree: float = param(
        6.0, "contacts per firm",
        "assumption (range 2-12): the firms of its own region a micro-firm deals with regularly "
        "as customer, supplier or sector colleague; most of its customers are households or firms elsewhere",
        "mean number of business contacts of a firm in its region", prior=("uniform", 2.0, 12.0), ge=0, le=MAX_CONTACTS)
    same_sector_share: float = param(
        0.3, "fraction", "assumption (range 0.1-0.5)",
        "share of a firm's contacts in its own sector (sector neighbours); the rest are customers and suppliers in other sectors",
        prior=("uniform", 0.1, 0.5), ge=0, le=1)
    strength: float = param(
        0.2, "0-1 (trust)", "assumption (range 0.1-0.4): an ordinary business contact, about a tie at trust.tie_threshold",
        "trust-equivalent strength of a business contact (a tie made in meetings counts with its trust)",
        prior=("uniform", 0.1, 0.4), ge=0, le=1)
    partner_rate_per_year: float = param(
        0.01, "1/year per unit strength",
        "assumption (range 0.002-0.03; at the defaults about 2.5 % of firms a year enter a partnership with a firm they know)",
        "chance a year of starting a venture with a contact, per unit of contact strength (summed over contacts)",
        prior=("loguniform", 0.002, 0.03), ge=0, le=10)
    referral_effect: float = param(
        0.1, "fraction", "assumption (range 0-0.3): customers follow a firm's contacts' markets",
        "revenue change per unit of the contacts' mean relative performance (their revenue against their normal revenue)",
        prior=("uniform", 0.0, 0.3), ge=0, le=1)
    competitor_sharing: float = param(
        0.5, "ratio", "assumption (range 0.2-1): direct competitors hold back what gives them an edge",
        "weight of a lesson between direct competitors (same sector, same region) relative to other peers",
        prior=("uniform", 0.2, 1.0), ge=0, le=1)


class Learning(Strict):
    """Knowledge exchange: the absorptive-capacity curve."""

    rate: float = param(0.1, "knowledge/meeting", ASSUMPTION, "gain at full trust and the ideal gap", prior=("loguniform", 0.02, 0.3), ge=0, le=1)
    peak_gap: float = param(0.25, "knowledge", "Cohen & Levinthal (1990); Nooteboom et al. (2007), Research Policy 36(7): optimal cognitive distance",
                            "knowledge gap at which learning is largest", gt=0, le=1)
    stranger_trust: float = param(0.15, "0-1", ASSUMPTION, "trust used between firms with no tie", ge=0, le=1)
    facilitation_gain: float = param(0.8, "ratio", f"{SEED_CHAPTER}: facilitator leads the process", "extra learning at full facilitation", ge=0, le=10)
    decay_per_week: float = param(0.001, "1/week", ASSUMPTION, "forgetting of knowledge above the initial level", ge=0, le=1)
    online_channel_rate: float = param(0.15, "fraction of rate", f"{SEED_CHAPTER}: social media forums between meetings",
                                       "learning between meetings on a group channel, relative to a meeting", ge=0, le=1)
    expert_trust: float = param(0.5, "0-1", ASSUMPTION, "trust weight of an expert talk or a facilitator's outside knowledge as a teacher", ge=0, le=1)


class Trust(Strict):
    """The weighted trust network."""

    meeting_gain: float = param(0.12, "fraction of (1-trust)", ASSUMPTION, "trust gained per shared meeting", prior=("loguniform", 0.03, 0.3), ge=0, le=1)
    venture_gain: float = param(0.25, "fraction of (1-trust)", ASSUMPTION, "trust gained by a venture that ends well", ge=0, le=1)
    venture_loss: float = param(0.4, "fraction of trust", ASSUMPTION, "trust lost when a venture fails", ge=0, le=1)
    decay_per_week: float = param(0.012, "1/week", ASSUMPTION, "relative trust decay in a week without contact", ge=0, le=1)
    tie_threshold: float = param(0.2, "0-1", ASSUMPTION, "trust from which a tie counts", ge=0, le=1)
    strong_threshold: float = param(0.5, "0-1", ASSUMPTION, "trust from which a tie counts as strong", ge=0, le=1)
    dormant: float = param(0.01, "0-1", ASSUMPTION, "trust below which a decaying tie is set to zero (the pair stays known)", ge=0, le=1)


class Attendance(Strict):
    """Logistic attendance choice."""

    base: float = param(0.6, "logit", ASSUMPTION, "intercept", prior=("uniform", -1.0, 2.0), ge=-10, le=10)
    felt_value: float = param(2.5, "logit per unit", ASSUMPTION, "weight of value felt from meetings so far", prior=("uniform", 0.5, 5.0), ge=0, le=MAX_LOGIT)
    facilitation: float = param(0.8, "logit per unit", f"{SEED_CHAPTER}: jointly facilitated meetings are accessible", "weight of facilitation", ge=0, le=MAX_LOGIT)
    travel: float = param(1.6, "logit per unit", f"{SEED_CHAPTER}: distance in sparsely populated areas", "weight of travel cost", ge=0, le=MAX_LOGIT)
    ties: float = param(1.5, "logit per unit", ASSUMPTION, "weight of mean trust to the other members", ge=0, le=MAX_LOGIT)
    workload: float = param(1.0, "logit per unit", f"{SEED_CHAPTER}: limited time resources", "weight of workload", ge=0, le=MAX_LOGIT)
    distress_workload: float = param(0.3, "workload", ASSUMPTION, "extra workload of an owner whose cash is negative", ge=0, le=10)


class ModeSettings(Strict):
    """What a meeting mode changes."""

    travel_factor: float = param(1.0, "ratio", ASSUMPTION, "travel cost relative to physical meetings", ge=0, le=10)
    trust_factor: float = param(1.0, "ratio", ASSUMPTION, "trust gain relative to physical meetings", ge=0, le=10)
    learning_factor: float = param(1.0, "ratio", ASSUMPTION, "learning relative to physical meetings", ge=0, le=10)
    visits: bool = Field(True, description="meetings happen at members' premises (hosts can show assets)")


class Modes(Strict):
    """Settings per meeting mode."""

    physical: ModeSettings = ModeSettings()
    online: ModeSettings = ModeSettings(travel_factor=0.0, trust_factor=0.55, learning_factor=0.8, visits=False)
    hybrid: ModeSettings = ModeSettings(travel_factor=0.5, trust_factor=0.8, learning_factor=0.9)
    communal_space: ModeSettings = ModeSettings(travel_factor=0.6, trust_factor=1.1, learning_factor=1.0, visits=False)


class ActivitySettings(Strict):
    """Chance of one of Wenger's activities in a meeting and the size of its effect."""

    probability: float = param(0.5, "probability", f"{SEED_CHAPTER}: Table 1, all 11 activities observed; value an assumption",
                               "chance per meeting when its condition holds", ge=0, le=1)
    effect: float = param(0.5, "per activity (docs/odd.md)", ASSUMPTION,
                          "size of its effect (meaning per activity in docs/odd.md)", ge=0, le=10)


def _default_activities() -> dict[str, ActivitySettings]:
    # (probability, effect); meanings are documented per activity in docs/odd.md.
    table = {
        "problem_solving": (0.75, 0.45), "request_information": (0.5, 1.0),
        "seeking_experience": (0.45, 1.0), "reusing_assets": (0.25, 0.35),
        "coordination": (0.12, 0.5), "building_argument": (0.2, 0.25),
        "growing_confidence": (0.5, 0.05), "discussing_developments": (0.4, 0.1),
        "documentation": (0.3, 0.5), "visits": (1.0, 0.05), "mapping_knowledge": (0.15, 0.4),
    }
    return {k: ActivitySettings(probability=p, effect=e) for k, (p, e) in table.items()}


class Ventures(Strict):
    """Joint ventures of two firms, or of a host and the peers it rallies (coordination)."""

    min_trust: float = param(0.25, "0-1", ASSUMPTION, "trust needed before a venture is proposed", prior=("uniform", 0.1, 0.5), ge=0, le=1)
    uplift: float = param(0.08, "fraction of revenue", f"{SEED_CHAPTER}: shared sales road trip, festival marketing", "revenue uplift while active", ge=0, le=5)
    customer_uplift: float = param(0.03, "fraction of revenue", f"{SEED_CHAPTER}: mapping knowledge finds customers", "uplift for a peer-customer link", ge=0, le=5)
    mean_duration_weeks: float = param(40.0, "weeks", ASSUMPTION, "mean duration of a venture", gt=0, le=MAX_WEEKS)
    failure_rate_per_week: float = param(0.01, "1/week", ASSUMPTION, "failure hazard at zero trust (scaled by 1-trust)", ge=0, le=1)
    shared_cost_eur_per_week: float = param(
        60.0, "EUR/week", f"{SEED_CHAPTER}: none of the micro-firms could have afforded the exhibition house alone; size an assumption (range 20-150)",
        "running cost of an active venture (stand, materials, marketing), split equally among its members",
        prior=("uniform", 20.0, 150.0), ge=0, le=100_000)
    member_cost_eur_per_week: float = param(
        30.0, "EUR/week", "assumption (about half an hour of the owner's time; range 10-75); with the shared cost a two-firm venture costs each 60",
        "each member's own cost of an active venture (its time), on top of its share", ge=0, le=100_000)
    max_uplift: float = param(
        0.15, "fraction of revenue", "assumption (range 0.1-0.3): a micro-firm's capacity limits gains",
        "ceiling of a firm's revenue uplift from all its ventures (diminishing returns)", gt=0, le=5)
    distress_failure_effect: float = param(
        1.0, "ratio per partner", ASSUMPTION,
        "failure hazard multiplied by 1 + this for each partner with negative cash", ge=0, le=20)
    demand_failure_effect: float = param(
        2.0, "ratio per unit of demand lost", ASSUMPTION,
        "failure hazard multiplied by 1 + this x (1 - lower of the partners' demand)", ge=0, le=20)
    max_coordination_partners: int = param(
        10, "firms", f"{SEED_CHAPTER}: she asked 10 fellow entrepreneurs to build an exhibition house",
        "most peers the host rallies into its one coordination venture", ge=0, le=29)


class Brokering(Strict):
    """What a coordinator's introduction of two members of different groups does (docs/odd.md 7.15)."""

    candidates: int = param(
        8, "members", f"{SEED_CHAPTER}: Table 1, mapping knowledge: 'What other groups should we connect with?'; number an assumption",
        "members of other groups the coordinator considers for one introduction (the most complementary is introduced)", ge=1, le=MAX_GROUP)
    trust_gain: float = param(
        0.3, "fraction of (1-trust)", "assumption (range 0.15-0.5): a one-to-one meeting vouched for by the coordinator",
        "trust an introduction gives the pair", prior=("uniform", 0.15, 0.5), ge=0, le=1)
    learning_weight: float = param(
        1.0, "fraction of learning.rate", "assumption (range 0.5-1.5): a focused one-to-one talk on the need",
        "weight of the lesson the introduced member takes on its need, times learning.rate and the pair's trust", ge=0, le=10)
    venture_probability: float = param(
        0.25, "probability", f"{SEED_CHAPTER}: reusing assets (a shared sales road trip); size an assumption (range 0.1-0.5)",
        "chance a pair with complementary assets starts a shared-asset venture when introduced", ge=0, le=1)


class GoodPractice(Strict):
    """What reading the network's published good practice (its website) teaches; a funding
    phase publishes it (``good_practice_reach_per_year``, docs/odd.md 7.16)."""

    learning_weight: float = param(
        0.3, "fraction of learning.rate", "assumption (range 0.1-0.6): reading is weaker than thinking together in a meeting",
        "weight of a reading's lesson, times learning.rate", ge=0, le=10)


class OwnerTime(Strict):
    """Participants' time, priced at each firm's own hourly rate: a cost apart from the funders' (docs/odd.md 7.17)."""

    work_hours_per_week: float = param(
        45.0, "hours/week", "assumption (Statistics Finland labour force survey order: the self-employed work about 40-50 hours a week)",
        "hours an owner works a week: the firm's hourly rate is its weekly revenue over this times (1 + firms.revenue_per_employee x employees)",
        prior=("uniform", 35.0, 55.0), ge=1, le=168)
    meeting_hours: float = param(
        3.0, "hours", f"{SEED_CHAPTER}: monthly meetings in the evening at a member's business; length an assumption (range 2-4)",
        "hours an attendee spends in a group meeting", ge=0, le=24)
    travel_hours: float = param(
        1.0, "hours", f"{SEED_CHAPTER}: distance in sparsely populated areas; size an assumption (range 0.5-2)",
        "hours of travel to a meeting, times the region's sparsity and the mode's travel factor", ge=0, le=24)
    network_meeting_hours: float = param(
        8.0, "hours", "assumption (range 6-12): a cross-regional day, travel included",
        "hours a delegate spends at a network meeting", ge=0, le=48)
    introduction_hours: float = param(
        1.5, "hours", "assumption (range 1-3): one call or visit",
        "hours each firm of a brokered introduction spends", ge=0, le=24)
    reading_hours: float = param(
        0.5, "hours", "assumption (range 0.25-1)", "hours a reader spends on the published good practice", ge=0, le=24)


class Membership(Strict):
    """Joining, leaving and the life of groups."""

    felt_value_memory: float = param(0.3, "fraction", ASSUMPTION, "weight of the latest meeting in the felt value", gt=0, le=1)
    initial_felt_value: float = param(0.5, "0-1", ASSUMPTION, "felt value of a new member", ge=0, le=1)
    peer_value: float = param(0.2, "0-1", f"{SEED_EKOLLEGA}: entrepreneurs want peers to talk to",
                              "value of attending a meeting before anything is learnt or solved", ge=0, le=1)
    leave_threshold: float = param(0.2, "0-1", f"{SEED_GOOD_PRACTICE}: continuous recruitment needed; calibrated to pattern 6 of docs/validation.md (re-fitted when felt value became net, issue 12)", "felt value below which members consider leaving", prior=("uniform", 0.15, 0.55), ge=0, le=1)
    leave_probability_per_meeting: float = param(
        0.12, "probability per meeting", "assumption (the former 0.03 a week at a four-week cadence)",
        "chance a dissatisfied member leaves at a meeting date of its group", prior=("loguniform", 0.02, 0.4), ge=0, le=1)
    grace_weeks: int = param(12, "weeks", ASSUMPTION, "weeks before a new member considers leaving", ge=0, le=MAX_WEEKS)
    invitations_per_hour: float = param(
        0.025, "invitations/hour", "calibrated to pattern 2 of docs/validation.md (at acceptance 0.5 about 0.0125 members an hour)",
        "invitations to random firms of the region per funded recruitment hour", prior=("loguniform", 0.01, 0.2), ge=0, le=10)
    word_of_mouth_per_week: float = param(0.003, "1/week", ASSUMPTION, "chance a satisfied member invites one of its contacts (a tie) in a week", prior=("loguniform", 0.0005, 0.01), ge=0, le=1)
    acceptance: float = param(0.5, "probability", ASSUMPTION, "chance an invited firm joins", prior=("uniform", 0.2, 0.8), ge=0, le=1)
    critical_mass: int = param(4, "members", ASSUMPTION, "a group below this many members at membership.small_meetings_to_dissolve meeting dates in a row dissolves", ge=0, le=MAX_GROUP)
    max_size: int = param(30, "members", ASSUMPTION, "recruitment stops at this size", ge=2, le=MAX_GROUP)
    satisfied_felt_value: float = param(0.6, "0-1", ASSUMPTION, "felt value from which a member is satisfied and spreads the word", ge=0, le=1)
    problem_acceptance_factor: float = param(1.5, "ratio", ASSUMPTION, "acceptance of an invitation by a firm with a problem, relative to one without", ge=0, le=100)
    founding_problem_weight: float = param(2.0, "ratio", ASSUMPTION, "weight of a firm with a problem when a group picks its first members (others 1)", gt=0, le=100)
    recruit_tries: int = param(20, "draws", ASSUMPTION, "random firms of the region looked at to find one non-member to invite", ge=1, le=MAX_GROUP)
    value_solved: float = param(0.5, "value", ASSUMPTION, "meeting value credited to a host whose problem the group solves", ge=0, le=100)
    value_help: float = param(0.2, "value", f"{SEED_EKOLLEGA}: entrepreneurs want peers to talk to", "meeting value credited for asking for information or experience, for help towards a hire, or for a one-to-one talk", ge=0, le=100)
    value_venture: float = param(0.5, "value", ASSUMPTION, "meeting value credited to each partner of a new joint venture", ge=0, le=100)
    value_confidence: float = param(2.0, "value per unit", ASSUMPTION, "meeting value credited per unit of confidence gained", ge=0, le=100)
    value_per_knowledge: float = param(5.0, "value per unit", ASSUMPTION, "meeting value credited per unit of knowledge gained (a gain of 0.2 = one fully valuable meeting)", ge=0, le=100)
    small_meetings_to_dissolve: int = param(
        2, "meetings", ASSUMPTION, "consecutive meeting dates below critical mass before a group dissolves", ge=1, le=52)
    time_cost: float = param(
        0.03, "value per meeting", f"{SEED_CHAPTER}: limited time resources; size an assumption (range 0-0.1)",
        "time a meeting takes, subtracted from its value", ge=0, le=1)
    travel_cost: float = param(
        0.05, "value per meeting", f"{SEED_CHAPTER}: distance in sparsely populated areas; size an assumption (range 0-0.15)",
        "travel subtracted from a meeting's value, times the region's sparsity and the mode's travel factor", ge=0, le=1)
    absence_weight: float = param(
        0.5, "fraction", "assumption (range 0-1): missed meetings erode attachment",
        "a missed meeting pulls felt value towards 0 with this share of membership.felt_value_memory", ge=0, le=1)


class Mentoring(Strict):
    """Mentoring pairs: an experienced entrepreneur with a newer one (docs/odd.md 7.18).

    Which groups mentor, how often and how long a pair lasts are set per group
    (``groups[].mentoring``); this section holds who can mentor whom and what a session does.
    """

    min_experience_gap_years: float = param(
        3.0, "years", f"{SEED_EKOLLEGA}: entrepreneurs of different lengths of experience; gap an assumption",
        "a mentor has at least this many years more entrepreneurial experience than the mentee",
        prior=("uniform", 0.0, 8.0), ge=0, le=MAX_YEARS)
    min_knowledge_gap: float = param(
        0.0, "knowledge", "assumption (range 0-0.1)",
        "a mentor's mean knowledge exceeds the mentee's by more than this", ge=0, le=1)
    local_same_sector: bool = Field(
        True, description="a local mentor works in the mentee's sector (Brooks, Donovan & Johnson 2018: "
        "a successful entrepreneur in the same industry)")
    mentees_per_mentor: int = param(
        1, "mentees", "assumption (range 1-3: one-to-one mentoring)",
        "most mentees one mentor takes at a time", ge=1, le=MAX_GROUP)
    session_probability: float = param(
        0.85, "probability", "assumption (range 0.6-1: a due session is sometimes missed)",
        "chance a due session takes place", ge=0, le=1)
    learning_rate: float = param(
        0.12, "knowledge/session", f"{SEED_CHAPTER}: an entrepreneur promised to help a colleague learn; size an assumption",
        "knowledge gain on the session's topic at the ideal gap (the absorptive-capacity curve of learning.peak_gap), never past the mentor's own level",
        prior=("loguniform", 0.03, 0.3), ge=0, le=1)
    solve_probability: float = param(
        0.4, "probability", f"{SEED_CHAPTER}: problem-solving, mentoring sessions in the meetings; size an assumption",
        "chance a session clears the mentee's problem, times the mentor's knowledge of its topic", ge=0, le=1)
    confidence_gain: float = param(
        0.1, "fraction of gap", f"{SEED_CHAPTER}: growing confidence; size an assumption (range 0-0.3)",
        "share of the gap to the mentor's confidence the mentee closes in a session", ge=0, le=1)
    advice_gain: float = param(
        0.3, "fraction of gap", "assumption (range 0.1-0.6)",
        "share of the gap between the mentee's current advice and the mentor's know-how (mean knowledge) closed in a session", ge=0, le=1)
    advice_cost_saving: float = param(
        0.04, "fraction of running cost",
        "Brooks, Donovan & Johnson (2018): mentees' gains came from cheaper suppliers and prices; size an assumption (range 0-0.08)",
        "running cost saved at advice 1 (specific, current advice: suppliers, prices, customers)",
        prior=("uniform", 0.0, 0.08), ge=0, le=0.5)
    advice_decay_per_week: float = param(
        0.03, "1/week", "assumption (range 0.01-0.1: supplier and price tips go stale within months)",
        "weekly loss of advice (share of it): specific advice goes stale unless a mentor renews it",
        prior=("loguniform", 0.01, 0.1), ge=0, le=1)
    session_hours: float = param(
        2.0, "hours", "assumption (a one-to-one meeting with travel)",
        "hours a session takes of the mentor and of the mentee, each into the participants' time "
        "account at its own hourly rate (docs/odd.md 7.17)", ge=0, le=168)


class Facilitator(Strict):
    """A facilitator type a funding phase can pay for."""

    kind: Literal["advisory_service", "researcher", "none"] = Field(description="who facilitates")
    skill: float = param(0.6, "0-1", f"{SEED_CHAPTER}: PBAS and researchers facilitate", "facilitation skill", ge=0, le=1)
    outside_knowledge: float = param(0.6, "0-1", f"{SEED_GOOD_PRACTICE}: research-based knowledge transferred", "knowledge level brought from outside the group", ge=0, le=1)
    eur_per_hour: float = param(60.0, "EUR/hour", "assumption (Finnish public-sector expert cost)", "cost of one hour", ge=0, le=10_000)
    hours_for_full_effect: float = param(10.0, "hours/week", ASSUMPTION, "hours per week at which facilitation is fully effective", gt=0, le=168)


def _default_facilitators() -> dict[str, Facilitator]:
    return {
        "pbas": Facilitator(kind="advisory_service", skill=0.6, outside_knowledge=0.55, eur_per_hour=60.0),
        "researcher": Facilitator(kind="researcher", skill=0.7, outside_knowledge=0.8, eur_per_hour=70.0),
    }


class FundingPhase(Strict):
    """A funding phase: who pays what, for which facilitation, over which weeks."""

    name: str = Field(min_length=1, description="phase name")
    basis: Literal["group_age", "calendar"] = Field(
        "group_age", description="weeks counted from each group's start, or from the start of the run")
    start_week: int = param(0, "weeks", ASSUMPTION, "first week of the phase", ge=0, le=MAX_WEEKS)
    end_week: int | None = param(None, "weeks", ASSUMPTION, "week after the last week of the phase (none: open-ended)", gt=0, le=MAX_WEEKS)
    payer: str = Field("programme", min_length=1, description="who pays (a label for the ledger)")
    facilitators: list[str] = Field(default_factory=list, description="facilitator types funded (keys of [facilitators])")
    facilitation_hours_per_week: float = param(0.0, "hours/week", SEED_GOOD_PRACTICE, "facilitation per group", ge=0, le=168)
    recruitment_hours_per_week: float = param(0.0, "hours/week", SEED_GOOD_PRACTICE, "recruitment effort per group", ge=0, le=168)
    other_eur_per_group_per_year: float = param(0.0, "EUR/year", SEED_GOOD_PRACTICE, "other costs per group (coordination, events)", ge=0, le=MAX_EUR_PER_YEAR)
    fixed_eur_per_year: float = param(0.0, "EUR/year", SEED_GOOD_PRACTICE, "costs independent of the number of groups", ge=0, le=MAX_EUR_PER_YEAR)
    founding: bool = Field(False, description="new groups may be founded while this (calendar) phase runs")
    cross_group_meetings_per_year: float = param(
        0.0, "meetings/year", f"{SEED_GOOD_PRACTICE}: coordinate cross-regional activities; seed 003: ecosystem",
        "network meetings of delegates from every group (calendar phases)", ge=0, le=52)
    delegates_per_group: int = param(3, "members", ASSUMPTION, "members each group sends to a network meeting", ge=1, le=MAX_GROUP)
    introductions_per_year: float = param(
        0.0, "introductions/year", f"{SEED_GOOD_PRACTICE}: coordinate cross-regional activities; {SEED_CHAPTER}: 'What other groups should we connect with?'",
        "introductions the coordinator makes between members of different groups (calendar phases; docs/odd.md 7.15)", ge=0, le=10_000)
    good_practice_reach_per_year: float = param(
        0.0, "1/year", f"{SEED_GOOD_PRACTICE}: 'develop, disseminate, and benefit from the acquired common knowledge'; reach an assumption (range 0-0.3)",
        "chance a living firm (member or not) reads the network's published good practice in a year while the phase runs "
        "(calendar phases; 0: not published; docs/odd.md 7.16)", prior=("uniform", 0.0, 0.3), ge=0, le=1)
    hours_per_introduction: float = param(
        2.0, "hours", "assumption (range 1-4): finding the match, the call, the follow-up",
        "coordinator hours per introduction, paid at the phase's facilitators' rate", ge=0, le=168)

    @model_validator(mode="after")
    def _ordered(self) -> FundingPhase:
        if self.end_week is not None and self.end_week <= self.start_week:
            raise KeyedValueError("end_week", f"must be after start_week ({self.start_week})")
        if self.founding and self.basis != "calendar":
            raise KeyedValueError("founding", "needs basis = 'calendar'")
        if self.fixed_eur_per_year > 0 and self.basis != "calendar":
            raise KeyedValueError("fixed_eur_per_year", "needs basis = 'calendar'")
        if self.cross_group_meetings_per_year > 0 and self.basis != "calendar":
            raise KeyedValueError("cross_group_meetings_per_year", "needs basis = 'calendar'")
        if self.introductions_per_year > 0 and self.basis != "calendar":
            raise KeyedValueError("introductions_per_year", "needs basis = 'calendar'")
        if self.good_practice_reach_per_year > 0 and self.basis != "calendar":
            raise KeyedValueError("good_practice_reach_per_year", "needs basis = 'calendar'")
        return self

    def covers(self, week: int) -> bool:
        """Whether the phase runs in this (basis-relative) week."""
        return self.start_week <= week and (self.end_week is None or week < self.end_week)


class Funding(Strict):
    """Funding phases; phases of the same basis may not overlap."""

    phases: list[FundingPhase] = Field(default_factory=list, description="funding phases")

    @model_validator(mode="after")
    def _no_overlap(self) -> Funding:
        for basis in ("group_age", "calendar"):
            spans = sorted((p.start_week, p.end_week, i) for i, p in enumerate(self.phases) if p.basis == basis)
            for (_, end_a, a), (start_b, _, b) in zip(spans, spans[1:], strict=False):
                if end_a is None or end_a > start_b:
                    raise KeyedValueError(
                        f"phases.{b}",
                        f"phase '{self.phases[b].name}' overlaps phase '{self.phases[a].name}'",
                    )
        return self


class Founding(Strict):
    """Groups founded during the run where a calendar phase allows it."""

    max_new_groups: int = param(0, "groups", ASSUMPTION, "most groups founded during the run", ge=0, le=10_000)
    check_every_weeks: int = param(13, "weeks", ASSUMPTION, "how often founding is considered", ge=1, le=MAX_WEEKS)
    min_interested: int = param(8, "firms", ASSUMPTION, "firms with a problem needed in a region to found a group", ge=2, le=MAX_GROUP)
    founding_members: int = param(8, "firms", ASSUMPTION, "members a founded group starts with", ge=2, le=MAX_GROUP)
    mode: ModeName = Field("physical", description="mode of founded groups")
    cadence_weeks: int = param(4, "weeks", SEED_CHAPTER, "cadence of founded groups", ge=1, le=MAX_WEEKS)


class GroupSpec(Strict):
    """A core group (community of practice) in a region."""

    name: str = Field(min_length=1, description="group name")
    region: str = Field(min_length=1, description="region it recruits from (a name in [[regions]])")
    mode: ModeName = Field("physical", description="how it meets")
    cadence_weeks: int = param(4, "weeks", f"{SEED_CHAPTER}: monthly meetings", "weeks between meetings", ge=1, le=MAX_WEEKS)
    start_week: int = param(0, "weeks", ASSUMPTION, "week of the first meeting", ge=0, le=MAX_WEEKS)
    end_week: int | None = param(None, "weeks", ASSUMPTION, "week the programme stops meeting (none: open-ended)", gt=0, le=MAX_WEEKS)
    initial_members: int = param(12, "firms", ASSUMPTION, "members recruited at the start", ge=0, le=MAX_GROUP)
    selection: Literal["problem_first", "uniform"] = Field(
        "problem_first", description="how the first members are drawn from the region's firms: problem_first "
        "(a firm with a problem counts double, as recruiters look for needs) or uniform (every eligible firm "
        "alike, for evaluations)")
    sectors: list[str] = Field(default_factory=list, description="sectors the first members are drawn from (empty: all)")
    members: list[int] | None = Field(
        None, description="firm ids (rows) that join at the start instead of a draw: an evaluation's "
        "random assignment (firms no longer in business or already in a group are skipped)")
    venue_eur_per_week: float = param(0.0, "EUR/week", SEED_COMMUNAL, "rent of a meeting space", ge=0, le=1_000_000)
    venue_payer: str = Field("municipality", min_length=1, description="who pays the venue")
    channel: bool = Field(True, description="an online channel between meetings")
    expert_talks: bool = Field(False, description=f"short expert talks bring outside knowledge ({SEED_EKOLLEGA})")
    expert_knowledge: float = param(0.7, "0-1", SEED_EKOLLEGA, "knowledge level of the expert talks", ge=0, le=1)
    group_meetings: bool = Field(True, description="the group meets (false: a mentoring programme only, its members meet their mentors)")
    mentoring: Literal["none", "peers", "local"] = Field(
        "none", description=f"mentoring pairs: none; peers (the more experienced members mentor the newer ones, "
        f"{SEED_EKOLLEGA}: peer mentoring); local (experienced entrepreneurs of the region outside the groups "
        "mentor the members, as in Brooks, Donovan & Johnson 2018)")
    mentoring_cadence_weeks: int = param(2, "weeks", "assumption (eKollega's groups met every three weeks; pairs meet in between)",
                                         "weeks between a pair's sessions", ge=1, le=MAX_WEEKS)
    mentoring_sessions: int = param(6, "sessions", "assumption (one season of a programme)",
                                    "sessions a mentee gets before the pair ends", ge=1, le=MAX_WEEKS)

    @model_validator(mode="after")
    def _ordered(self) -> GroupSpec:
        if self.end_week is not None and self.end_week <= self.start_week:
            raise KeyedValueError("end_week", f"must be after start_week ({self.start_week})")
        if not self.group_meetings and self.mentoring == "none":
            raise KeyedValueError("group_meetings", "a group that does not meet needs mentoring (peers or local)")
        if self.members is not None:
            if len(set(self.members)) != len(self.members) or min(self.members, default=0) < 0:
                raise KeyedValueError("members", "firm ids must be distinct and not negative")
            if len(self.members) != self.initial_members:
                raise KeyedValueError("initial_members", f"must equal the number of listed members "
                                      f"({len(self.members)})")
        return self


class Shock(Strict):
    """A drop in demand: pandemic-like or a local plant closure."""

    name: str = Field(min_length=1, description="shock name")
    start_week: int = param(104, "weeks", ASSUMPTION, "first week of the shock", ge=0, le=MAX_WEEKS)
    duration_weeks: int = param(26, "weeks", ASSUMPTION, "weeks at full depth", ge=1, le=MAX_WEEKS)
    recovery_weeks: int = param(26, "weeks", ASSUMPTION, "weeks of linear recovery afterwards", ge=0, le=MAX_WEEKS)
    depth: float = param(0.3, "fraction", ASSUMPTION, "share of demand lost", ge=0, le=1)
    sectors: list[str] = Field(default_factory=list, description="sectors hit (empty: all)")
    regions: list[str] = Field(default_factory=list, description="regions hit (empty: all)")


class Environment(Strict):
    """Sector demand and shocks."""

    sectors: list[Sector] = Field(default_factory=_default_sectors, min_length=1, description="sectors")
    shocks: list[Shock] = Field(default_factory=list, description="demand shocks")


class Scenario(Strict):
    """A whole scenario, as read from a TOML file."""

    name: str = Field("unnamed", min_length=1, description="scenario name")
    title: str = Field("", description="a readable title for reports (empty: the name)")
    description: str = Field("", description="what the scenario represents")
    run: Run = Run()
    regions: list[Region] = Field(default_factory=lambda: [Region(name="region")], min_length=1)
    firms: Firms = Firms()
    environment: Environment = Environment()
    learning: Learning = Learning()
    trust: Trust = Trust()
    attendance: Attendance = Attendance()
    modes: Modes = Modes()
    activities: dict[str, ActivitySettings] = Field(default_factory=_default_activities)
    ventures: Ventures = Ventures()
    hiring: Hiring = Hiring()
    wellbeing: Wellbeing = Wellbeing()
    channels: Channels = Channels()
    brokering: Brokering = Brokering()
    good_practice: GoodPractice = GoodPractice()
    owner_time: OwnerTime = OwnerTime()
    contacts: Contacts = Contacts()
    membership: Membership = Membership()
    mentoring: Mentoring = Mentoring()
    facilitators: dict[str, Facilitator] = Field(default_factory=_default_facilitators)
    funding: Funding = Funding()
    founding: Founding = Founding()
    groups: list[GroupSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        names = enum_names(Activity)
        unknown = sorted(set(self.activities) - set(names))
        if unknown:
            raise KeyedValueError(f"activities.{unknown[0]}", f"unknown activity (known: {', '.join(names)})")
        missing = [n for n in names if n not in self.activities]
        if missing:
            raise KeyedValueError(f"activities.{missing[0]}", "missing")
        regions = [r.name for r in self.regions]
        _unique("regions", regions)
        _unique("groups", [g.name for g in self.groups])
        sectors = [s.name for s in self.environment.sectors]
        _unique("environment.sectors", sectors)
        for i, group in enumerate(self.groups):
            _known(f"groups.{i}.region", group.region, regions)
            for sector in group.sectors:
                _known(f"groups.{i}.sectors", sector, sectors)
        for i, phase in enumerate(self.funding.phases):
            for key in phase.facilitators:
                _known(f"funding.phases.{i}.facilitators", key, list(self.facilitators))
            if phase.introductions_per_year > 0 and all(
                    self.facilitators[k].kind == "none" for k in phase.facilitators):
                raise KeyedValueError(f"funding.phases.{i}.introductions_per_year",
                                      "needs a facilitator in the phase's facilitators (the coordinator who introduces)")
        for i, shock in enumerate(self.environment.shocks):
            for sector in shock.sectors:
                _known(f"environment.shocks.{i}.sectors", sector, sectors)
            for region in shock.regions:
                _known(f"environment.shocks.{i}.regions", region, regions)
        if sum(s.share for s in self.environment.sectors) <= 0:
            raise KeyedValueError("environment.sectors", "shares sum to zero")
        f = self.firms
        if f.share_solo + f.share_lifestyle + f.share_family + f.share_growth + f.share_startup <= 0:
            raise KeyedValueError("firms", "firm type shares sum to zero")
        return self

    @property
    def population(self) -> int:
        """Firms at the start, over all regions."""
        return sum(r.firms for r in self.regions)


def _unique(key: str, names: list[str]) -> None:
    for i, name in enumerate(names):
        if name in names[:i]:
            raise KeyedValueError(f"{key}.{i}.name", f"{name!r} appears twice")


def _known(key: str, name: str, known: list[str]) -> None:
    if name not in known:
        raise KeyedValueError(key, f"unknown name {name!r} (known: {', '.join(known)})")
