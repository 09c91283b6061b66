"""The policy in force in this worker process.

Every decision reads ``policy_holder.current``; live changes through the control topic (a
later release) replace it atomically, so a change takes effect on the next event.
"""

from __future__ import annotations

from models.policy import DEFAULT_POLICY, Policy


class PolicyHolder:
    def __init__(self, policy: Policy) -> None:
        self.current = policy


policy_holder = PolicyHolder(DEFAULT_POLICY)
