"""What every domain's agents are built from: one app, its settings and topics, the policy
holder they read, the sender they emit through and the crash points of the fault tests."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from streams.control.policy import PolicyHolder
from streams.emit import DecisionSender
from streams.failpoints import Failpoints
from streams.settings import Settings
from streams.topics import WorkerTopics


@dataclass(frozen=True, slots=True)
class Wiring:
    app: faust.App
    settings: Settings
    topics: WorkerTopics
    policy: PolicyHolder
    sender: DecisionSender
    failpoints: Failpoints
