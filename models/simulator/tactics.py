"""The scenario family: what each campaign style and benign population may do per seed.

The default tables (``benign``, ``attacks``) are one point of a much larger space of tactics,
and detectors tuned on one point learn that point. Here every population draws its tactics
per seed from documented ranges (:data:`ATTACK_RANGES`, :data:`BENIGN_RANGES`; the table in
docs/simulator.md is this data), and a *cell* (:data:`CELLS`) narrows some ranges to name a
region of the space, so a robustness matrix can run seeds x cells. The ``default`` cell draws
nothing: it is today's fixed tables, byte for byte.

Every tactic of every population draws one uniform number from its own generator keyed by
``(seed, "tactics", population, tactic)`` and maps it into the cell's range. So for one seed
two cells differ only in the tactics the cells narrow: the matrix compares like with like.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Final, Literal

from models.simulator.draws import rng_for

# A campaign's requests/day at scale 1 stay under this (its fleet shrinks to fit), so fast
# fleets are small and big fleets slow, as in the reports (~670 exchanges per account).
CAMPAIGN_CAP: Final = 60_000.0


@dataclass(frozen=True, slots=True)
class Span:
    """A numeric range; ``at(u)`` maps a uniform draw into it."""

    low: float
    high: float
    scale: Literal["lin", "log", "int", "logint"] = "lin"

    def at(self, u: float) -> float | int:
        if self.scale in ("log", "logint"):
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        if self.scale == "lin" or self.scale == "log":  # 4 significant digits: readable labels
            return min(max(float(f"{value:.4g}"), self.low), self.high)
        if self.scale == "int":  # every integer in [low, high] equally likely
            value = self.low + u * (self.high - self.low + 1)
        return int(min(max(math.floor(value), self.low), self.high))

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a few options, equally likely."""

    options: tuple[Any, ...]

    def at(self, u: float) -> Any:
        return self.options[min(int(u * len(self.options)), len(self.options) - 1)]

    def contains(self, value: Any) -> bool:
        return value in self.options


Range = Span | Choice


@dataclass(frozen=True, slots=True)
class AttackTactics:
    """One campaign's drawn tactics; ``None``: not drawn for this style (its table value)."""

    accounts: int | None = None  # fleet size at scale 1, after CAMPAIGN_CAP
    rate: float | None = None  # an account's median requests/day (its range: rate/2..rate*2)
    start_h: float | None = None  # campaign start after scenario start (clipped to days x 12)
    ramp_h: float | None = None  # accounts come online over this many hours
    warmup_h: float | None = None  # each account's linear rate ramp
    signup: Literal["spread", "waves"] | None = None  # created one by one, or 3 signup waves
    aged_share: float | None = None  # bought or aged accounts, created 30-720 days before
    prompts: Literal["template", "diverse"] | None = None
    families: int | None = None  # shared templates (prompts = template)
    flips: int | None = None  # at most this many bits away from a template
    fingerprints: Literal["unique", "fleet", "sdk"] | None = None  # client fingerprints
    fleet_fps: int | None = None  # fingerprints the fleet shares (fingerprints = fleet)
    payment_group: int | None = None  # one payment fingerprint per N accounts (1: none shared)
    hosting: float | None = None  # share of hosting ASNs (the rest residential and mobile)
    mobile: float | None = None  # share of mobile among the non-hosting ASNs
    asns: int | None = None  # distinct ASNs the fleet spreads over
    rotate_ips: bool | None = None  # a fresh exit address per session (proxy network)
    diurnal: float | None = None  # 0: flat around the clock .. 0.85: mimics people
    reasoning: float | None = None  # share of harvest requests with reasoning on
    cot: float | None = None  # cot_elicitation centre (uniform on centre +- 0.1)
    chat_share: float | None = None  # ordinary chat mixed into each account's traffic
    routed_share: float | None = None  # accounts that come through resellers (routed_via)


@dataclass(frozen=True, slots=True)
class BenignTactics:
    """One benign population's drawn tactics; ``None``: its table value."""

    accounts: int | None = None  # at scale 1
    rate_factor: float | None = None  # multiplies the table's per_day range
    sdk_share: float | None = None  # accounts whose clients come from the common SDK pool
    app_client: Literal["app", "sdk"] | None = None  # popular_app: its own client, or an SDK's
    families: int | None = None  # templates or own prompt bases
    flips: int | None = None
    p_fresh: float | None = None  # brand-new prompts mixed in (developer: 1 - repeats)
    reasoning: float | None = None
    cot: float | None = None  # cot_elicitation centre (eval runners: +- 0.15)
    run_hours: float | None = None  # eval runs last run_hours/2 .. run_hours
    private: int | None = None  # own eval questions: private .. 4 x private
    public: int | None = None  # public benchmarks each runner uses: 0 .. public
    min_age_days: float | None = None  # youngest account (eval runners are established)
    start_h: float | None = None  # launch surge: when the signups start
    ramp_h: float | None = None  # launch surge: over how many hours they sign up


_RATE: Final = {  # median requests/day per account
    "bulk_harvest": Span(300.0, 5000.0, "log"),
    "reasoning_extraction": Span(100.0, 2000.0, "log"),
    "rubric_harvest": Span(50.0, 800.0, "log"),
    "hydra": Span(10.0, 150.0, "log"),
    "router_laundering": Span(100.0, 1500.0, "log"),  # the extraction stream only
}
_FLEET: Final = {
    "bulk_harvest": Span(10, 300, "logint"),
    "reasoning_extraction": Span(10, 300, "logint"),
    "rubric_harvest": Span(10, 500, "logint"),
    "hydra": Span(100, 5000, "logint"),
}
_REASONING: Final = {
    "bulk_harvest": Span(0.3, 1.0),
    "reasoning_extraction": Span(0.9, 1.0),
    "rubric_harvest": Span(0.5, 1.0),
    "hydra": Span(0.5, 1.0),
    "router_laundering": Span(0.8, 1.0),
}
_COT: Final = {
    "bulk_harvest": Span(0.15, 0.6),
    "reasoning_extraction": Span(0.6, 0.9),
    "rubric_harvest": Span(0.15, 0.5),
    "hydra": Span(0.2, 0.65),
    "router_laundering": Span(0.6, 0.9),
}
_CHAT: Final = {
    "bulk_harvest": Span(0.0, 0.2),
    "reasoning_extraction": Span(0.0, 0.2),
    "rubric_harvest": Span(0.0, 0.2),
    "hydra": Span(0.1, 0.4),
}
_PROMPTS: Final[dict[str, Range]] = {
    "prompts": Choice(("template", "diverse")),
    "families": Span(1, 8, "int"),
    "flips": Span(1, 6, "int"),
}
_TIMING: Final[dict[str, Range]] = {
    "start_h": Span(0.0, 36.0),
    "warmup_h": Span(0.0, 6.0),
    "diurnal": Span(0.0, 0.85),
}


def _fleet_style(style: str) -> dict[str, Range]:
    return {
        "accounts": _FLEET[style],
        "rate": _RATE[style],
        **_TIMING,
        "ramp_h": Span(0.5, 48.0, "log"),
        "signup": Choice(("spread", "waves")),
        "aged_share": Span(0.0, 0.8),
        **_PROMPTS,
        "fingerprints": Choice(("unique", "fleet", "sdk")),
        "fleet_fps": Span(1, 8, "int"),
        "payment_group": Span(1, 100, "logint"),
        "hosting": Span(0.0, 1.0),
        "mobile": Span(0.0, 0.3),
        "asns": Span(2, 60, "logint"),
        "rotate_ips": Choice((False, True)),
        "reasoning": _REASONING[style],
        "cot": _COT[style],
        "chat_share": _CHAT[style],
        "routed_share": Choice((0.0, 0.1, 0.25, 0.5)),
    }


ATTACK_RANGES: Final[dict[str, dict[str, Range]]] = {
    **{style: _fleet_style(style) for style in _FLEET},
    # One old router account: only its extraction stream has tactics.
    "router_laundering": {
        "rate": _RATE["router_laundering"],
        **_TIMING,
        "ramp_h": Span(0.5, 12.0, "log"),
        **_PROMPTS,
        "reasoning": _REASONING["router_laundering"],
        "cot": _COT["router_laundering"],
    },
}

_FACTOR: Final = Span(0.5, 2.0, "log")
BENIGN_RANGES: Final[dict[str, dict[str, Range]]] = {
    "chat": {"accounts": Span(800, 3000, "logint"), "rate_factor": _FACTOR,
             "sdk_share": Span(0.0, 0.5)},
    "developer": {"accounts": Span(50, 400, "logint"), "rate_factor": _FACTOR,
                  "sdk_share": Span(0.0, 0.8), "families": Span(2, 8, "int"),
                  "p_fresh": Span(0.05, 0.5), "reasoning": Span(0.1, 0.6)},
    "enterprise_batch": {"accounts": Span(3, 20, "logint"), "rate_factor": _FACTOR,
                         "sdk_share": Span(0.0, 1.0), "families": Span(1, 6, "int"),
                         "flips": Span(1, 4, "int"), "reasoning": Span(0.0, 0.3)},
    "eval_runner": {"accounts": Span(5, 40, "logint"), "rate_factor": _FACTOR,
                    "sdk_share": Span(0.0, 1.0), "reasoning": Span(0.8, 1.0),
                    "cot": Span(0.35, 0.75), "run_hours": Span(1.0, 6.0),
                    "private": Span(50, 500, "logint"), "public": Span(0, 3, "int"),
                    "min_age_days": Span(30.0, 180.0, "log")},
    "router": {"accounts": Span(2, 10, "logint"), "rate_factor": _FACTOR,
               "sdk_share": Span(0.0, 0.5), "reasoning": Span(0.1, 0.5)},
    "popular_app": {"accounts": Span(100, 1500, "logint"), "rate_factor": _FACTOR,
                    "app_client": Choice(("app", "sdk")), "families": Span(1, 3, "int"),
                    "flips": Span(0, 4, "int"), "reasoning": Span(0.0, 0.2)},
    "new_user": {"accounts": Span(100, 800, "logint"), "rate_factor": _FACTOR,
                 "sdk_share": Span(0.0, 0.5)},
    "launch_surge": {"accounts": Span(200, 2000, "logint"), "rate_factor": _FACTOR,
                     "sdk_share": Span(0.3, 1.0), "p_fresh": Span(0.5, 1.0),
                     "start_h": Span(0.0, 36.0), "ramp_h": Span(1.0, 6.0, "log")},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Cell:
    """A named region of the ranges: these tactics drawn from ``attack`` instead, for every
    campaign style that draws them (benign populations keep their full ranges)."""

    description: str
    attack: dict[str, Range] = dataclasses.field(default_factory=dict)


CELLS: Final[dict[str, Cell]] = {
    "default": Cell("today's fixed tables (no draws): the scenario the detectors were tuned on"),
    "family": Cell("every tactic from its full range"),
    "aged-fleet": Cell("bought or aged accounts", {"aged_share": Span(0.5, 0.8)}),
    "low-and-slow": Cell(
        "big quiet fleets: chat-like rates, human hours, slow ramp",
        {
            "rate": Span(10.0, 60.0, "log"),
            "accounts": Span(200, 5000, "logint"),
            "diurnal": Span(0.6, 0.85),
            "ramp_h": Span(24.0, 48.0, "log"),
        },
    ),
    "sdk-camouflage": Cell(
        "client fingerprints from the common SDK pool benign users use",
        {"fingerprints": Choice(("sdk",))},
    ),
    "bulk-fast": Cell(
        "small fleets pulling thousands of requests a day around the clock",
        {
            "rate": Span(1000.0, 5000.0, "log"),
            "accounts": Span(10, 60, "logint"),
            "diurnal": Span(0.0, 0.15),
            "warmup_h": Span(0.0, 1.0),
        },
    ),
    "diverse-prompts": Cell("no templates: every prompt new", {"prompts": Choice(("diverse",))}),
    "via-routers": Cell(
        "most accounts come through resellers (routed_via, business ASNs)",
        {"routed_share": Choice((0.5, 0.75, 1.0))},
    ),
}
CELL_NAMES: Final = tuple(CELLS)


def _draw(seed: int, population: str, ranges: dict[str, Range]) -> dict[str, Any]:
    return {
        tactic: span.at(float(rng_for(seed, "tactics", population, tactic).random()))
        for tactic, span in ranges.items()
    }


def attack_ranges(style: str, cell: str) -> dict[str, Range]:
    """The ranges ``style`` draws from in ``cell`` (the cell's override where it draws)."""
    own = ATTACK_RANGES[style]
    return {tactic: CELLS[cell].attack.get(tactic, span) for tactic, span in own.items()}


def draw_attack(seed: int, style: str, cell: str) -> AttackTactics:
    """``style``'s tactics for ``seed`` in ``cell``; a fleet over CAMPAIGN_CAP shrinks."""
    values = _draw(seed, style, attack_ranges(style, cell))
    if "accounts" in values:
        values["accounts"] = min(values["accounts"], int(CAMPAIGN_CAP / values["rate"]))
    return AttackTactics(**values)


def draw_benign(seed: int, kind: str) -> BenignTactics:
    """``kind``'s tactics for ``seed`` (the same in every cell but ``default``)."""
    return BenignTactics(**_draw(seed, kind, BENIGN_RANGES[kind]))


def drawn(tactics: AttackTactics | BenignTactics) -> dict[str, Any]:
    """The tactics that were drawn, as ``labels.json`` records them."""
    return {k: v for k, v in dataclasses.asdict(tactics).items() if v is not None}


def _show(r: Range | None) -> str:
    if r is None:
        return "-"
    if isinstance(r, Choice):
        return " / ".join(str(o).lower() for o in r.options)
    text = f"{r.low:,g}-{r.high:,g}"
    return text + " (log)" if r.scale in ("log", "logint") else text


def _table(ranges: dict[str, dict[str, Range]], record: type) -> list[str]:
    names = list(ranges)
    lines = ["| tactic | " + " | ".join(f"`{n}`" for n in names) + " |"]
    lines.append("|---|" + "---|" * len(names))
    for tactic in (f.name for f in dataclasses.fields(record)):
        if any(tactic in ranges[n] for n in names):
            row = " | ".join(_show(ranges[n].get(tactic)) for n in names)
            lines.append(f"| `{tactic}` | {row} |")
    return lines


def markdown_tables() -> str:
    """The ranges and cells as docs/simulator.md shows them (a test keeps the two equal)."""
    cells = ["| cell | what it is | tactics it narrows (every style that draws them) |"]
    cells.append("|---|---|---|")
    for name, cell in CELLS.items():
        narrowed = ", ".join(f"`{k}` {_show(v)}" for k, v in cell.attack.items()) or "-"
        cells.append(f"| `{name}` | {cell.description} | {narrowed} |")
    parts = [
        _table(ATTACK_RANGES, AttackTactics),
        ["Benign populations:"],
        _table(BENIGN_RANGES, BenignTactics),
        ["Cells:"],
        cells,
    ]
    return "\n\n".join("\n".join(p) for p in parts) + "\n"
