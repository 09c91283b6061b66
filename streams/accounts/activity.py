"""A batch's requests summed per (ASN, account): what the ASN agent needs, ~1 message per
ASN per batch instead of one per request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.account import AccountState, output_tokens_per_day
from models.asn import AsnActivity
from models.request import Request


class ActivityBatch:
    def __init__(self) -> None:
        # (asn, account) -> [last_ts, requests, output_tokens, reasoning, cot_sum, created_ts]
        self._sums: dict[tuple[int, str], list[Any]] = {}

    def add(self, req: Request) -> None:
        key = (req.asn, req.account_id)
        row = self._sums.get(key)
        if row is None:
            row = self._sums[key] = [req.ts, 0, 0, 0, 0.0, req.account_created_ts]
        row[0] = max(row[0], req.ts)
        row[1] += 1
        row[2] += req.output_tokens
        row[3] += int(req.reasoning)
        row[4] += req.cot_elicitation or 0.0
        row[5] = req.account_created_ts or row[5]

    def by_asn(
        self, states: Mapping[str, tuple[AccountState, Any]]
    ) -> dict[int, list[AsnActivity]]:
        """Group the sums by ASN, with each account's own 24-h output rate attached."""
        out: dict[int, list[AsnActivity]] = {}
        for (asn, account), (
            last_ts,
            requests,
            output,
            reasoning,
            cot,
            created,
        ) in self._sums.items():
            per_day = output_tokens_per_day(states[account][0])
            out.setdefault(asn, []).append(
                AsnActivity(account, last_ts, requests, output, reasoning, cot, created, per_day)
            )
        return out
