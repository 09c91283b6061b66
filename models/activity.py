"""A batch's requests summed per (ASN, account): what the ASN agent needs, ~1 message per
ASN per batch instead of one per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.account import AccountState, output_tokens_per_day
from models.asn import AsnActivity
from models.request import Request


@dataclass(slots=True)
class _Sums:
    last_ts: float
    created_ts: float | None
    requests: int = 0
    output_tokens: int = 0
    reasoning: int = 0
    cot_sum: float = 0.0


class ActivityBatch:
    def __init__(self) -> None:
        self._sums: dict[tuple[int, str], _Sums] = {}

    def add(self, req: Request) -> None:
        key = (req.asn, req.account_id)
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = _Sums(req.ts, req.account_created_ts)
        sums.last_ts = max(sums.last_ts, req.ts)
        sums.requests += 1
        sums.output_tokens += req.output_tokens
        sums.reasoning += int(req.reasoning)
        sums.cot_sum += req.cot_elicitation or 0.0
        sums.created_ts = req.account_created_ts or sums.created_ts

    def by_asn(self, state_of: Callable[[str], AccountState]) -> dict[int, list[AsnActivity]]:
        """Group the sums by ASN, with each account's own 24-h output rate attached."""
        out: dict[int, list[AsnActivity]] = {}
        for (asn, account), s in self._sums.items():
            state = state_of(account)
            out.setdefault(asn, []).append(
                AsnActivity(
                    account,
                    s.last_ts,
                    s.requests,
                    s.output_tokens,
                    s.reasoning,
                    s.cot_sum,
                    s.created_ts or state.created_ts or None,  # the account may know its age
                    output_tokens_per_day(state),
                )
            )
        return out
