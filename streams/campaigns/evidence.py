"""Campaign risks and memberships, in every worker: a broadcast read of the compacted
``<app>-campaigns`` topic (see ``streams.broadcast``), so any worker scoring an account
knows the campaign it was linked into."""

from __future__ import annotations

import orjson

from models.campaigns import CampaignBoard


class CampaignView(CampaignBoard):
    """``CampaignBoard`` fed from Kafka records."""

    def apply_record(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        self.apply(key.decode(), None if value is None else orjson.loads(value))
