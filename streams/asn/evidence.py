"""Every network's current risk, in every worker: a broadcast read of the compacted
``<app>-asn-risk`` topic (see ``streams.broadcast``). The ASN agent owns each network on one
worker, but every worker scores accounts of every network."""

from __future__ import annotations

import orjson

from models.scoring import NetworkEvidence


class NetworkRiskView:
    """asn -> NetworkEvidence, kept current by ``follow_compacted(..., view.apply)``."""

    def __init__(self) -> None:
        self._by_asn: dict[int, NetworkEvidence] = {}

    def get(self, asn: int) -> NetworkEvidence | None:
        return self._by_asn.get(asn)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One record of the compacted topic: a risk, or a tombstone (risk cleared)."""
        if key is None:
            return
        asn = int(key)
        if value is None:
            self._by_asn.pop(asn, None)
            return
        doc = orjson.loads(value)
        self._by_asn[asn] = NetworkEvidence(asn, float(doc["risk"]), str(doc["detail"]))

    def __len__(self) -> int:
        return len(self._by_asn)
