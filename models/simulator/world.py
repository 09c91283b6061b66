"""The world every population lives in: countries, ASN pools, shared prompt pools.

Attackers and customers draw their networks from the same pools, so no ASN, country or
address range gives an attack away by itself. The :class:`World` also holds the lookup
tables (networks, API keys, fingerprints) that the event columns index into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from models.simulator.config import ScenarioConfig
from models.simulator.draws import U64, Rng, hex_id, pick, random64, rng_for

# code, UTC offset (h), offset spread (h), share of consumer/business ASNs, share of cloud ASNs
COUNTRIES: Final = (
    ("US", -6.0, 1.5, 0.24, 0.42),
    ("CA", -5.5, 1.5, 0.03, 0.02),
    ("MX", -6.0, 0.5, 0.03, 0.0),
    ("BR", -3.0, 0.5, 0.05, 0.02),
    ("AR", -3.0, 0.0, 0.02, 0.0),
    ("GB", 0.0, 0.0, 0.06, 0.06),
    ("IE", 0.0, 0.0, 0.01, 0.07),
    ("FR", 1.0, 0.0, 0.04, 0.04),
    ("DE", 1.0, 0.0, 0.06, 0.10),
    ("NL", 1.0, 0.0, 0.02, 0.07),
    ("ES", 1.0, 0.0, 0.03, 0.0),
    ("IT", 1.0, 0.0, 0.03, 0.0),
    ("PL", 1.0, 0.0, 0.02, 0.01),
    ("SE", 1.0, 0.0, 0.01, 0.01),
    ("NG", 1.0, 0.0, 0.02, 0.0),
    ("IL", 2.0, 0.0, 0.01, 0.0),
    ("TR", 3.0, 0.0, 0.02, 0.0),
    ("IN", 5.5, 0.0, 0.10, 0.03),
    ("ID", 7.0, 0.5, 0.03, 0.0),
    ("VN", 7.0, 0.0, 0.02, 0.0),
    ("SG", 8.0, 0.0, 0.02, 0.07),
    ("PH", 8.0, 0.0, 0.02, 0.0),
    ("JP", 9.0, 0.0, 0.05, 0.05),
    ("KR", 9.0, 0.0, 0.04, 0.02),
    ("AU", 10.0, 0.5, 0.02, 0.02),
)
TIME_ZONES: Final = {c[0]: (c[1], c[2]) for c in COUNTRIES}
ASN_POOLS: Final = {
    "residential": 240,
    "mobile": 50,
    "business": 80,
    "education": 25,
    "hosting": 45,
}
# First octets of publicly routed IPv4 space: no private, CGNAT, loopback, link-local or
# documentation ranges, and none of the /8s held by the US DoD (rarely seen as API clients).
_OCTETS: Final = tuple(
    o
    for o in range(1, 224)
    if o
    not in {
        6,
        7,
        10,
        11,
        21,
        22,
        26,
        28,
        29,
        30,
        33,
        55,
        100,
        127,
        169,
        172,
        192,
        198,
        203,
        214,
        215,
    }
)
N_COMMON: Final = 60  # prompts every human sends now and then ("hi", "translate this")
# Client fingerprints of popular SDKs and HTTP libraries, shared by many unrelated accounts
# (popularity ~ 1/rank); only scenario-family tactics hand them out.
N_SDK: Final = 24
PUBLIC_BENCHMARKS: Final = 6
BENCHMARK_QUESTIONS: Final = 150


@dataclass(frozen=True, slots=True)
class Asn:
    number: int
    type: str
    country: str
    prefix: tuple[int, int]  # a /16
    weight: float  # popularity: big ISPs and clouds carry more accounts


@dataclass(slots=True)
class World:
    """Everything shared across populations, plus the lookup tables events index into."""

    config: ScenarioConfig
    pools: dict[str, list[Asn]]
    common: U64
    benchmarks: list[U64]
    nets: list[tuple[int, str, str, str]]  # asn, asn_type, country, ip
    keys: list[str]
    fingerprints: list[str]
    sdk: list[int]  # indices into ``fingerprints``: the common SDK pool, most popular first

    def pick_sdk(self, rng: Rng, n: int) -> list[int]:
        """Up to ``n`` distinct SDK fingerprints, popular ones more likely."""
        weights = [1.0 / (rank + 1) for rank in range(len(self.sdk))]
        return sorted({self.sdk[int(k)] for k in pick(rng, weights, n)})

    def add_net(self, asn: Asn, host: tuple[int, int]) -> int:
        ip = f"{asn.prefix[0]}.{asn.prefix[1]}.{host[0]}.{host[1]}"
        self.nets.append((asn.number, asn.type, asn.country, ip))
        return len(self.nets) - 1


def build_world(config: ScenarioConfig) -> World:
    rng = rng_for(config.seed, "world")
    numbers = iter(
        rng.permutation(np.concatenate([np.arange(1000, 64_495), np.arange(131_072, 400_000)]))
    )
    prefixes = iter(rng.permutation(len(_OCTETS) * 256))
    pools: dict[str, list[Asn]] = {}
    for kind, size in ASN_POOLS.items():
        column = 4 if kind == "hosting" else 3
        countries = pick(rng, [float(c[column]) for c in COUNTRIES], size)
        pools[kind] = []
        for country in countries:
            prefix = int(next(prefixes))
            pools[kind].append(
                Asn(
                    number=int(next(numbers)),
                    type=kind,
                    country=COUNTRIES[int(country)][0],
                    prefix=(_OCTETS[prefix // 256], prefix % 256),
                    weight=float(rng.lognormal(0.0, 1.0)),
                )
            )
    sdk_rng = rng_for(config.seed, "sdk")  # its own generator: the pool changes no other draw
    return World(
        config=config,
        pools=pools,
        common=random64(rng, N_COMMON),
        benchmarks=[random64(rng, BENCHMARK_QUESTIONS) for _ in range(PUBLIC_BENCHMARKS)],
        nets=[],
        keys=[],
        fingerprints=[hex_id(sdk_rng, "fp_", 16) for _ in range(N_SDK)],
        sdk=list(range(N_SDK)),
    )
