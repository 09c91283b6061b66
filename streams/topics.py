"""Every topic the worker reads or writes, in one place (raw bytes; JSON via orjson)."""

from __future__ import annotations

from typing import Final

from streams.app import app, settings

requests_topic: Final = app.topic(settings.topics.requests, key_type=bytes, value_type=bytes)
alerts_topic: Final = app.topic(settings.topics.alerts, key_type=bytes, value_type=bytes)
throttle_topic: Final = app.topic(settings.topics.throttle, key_type=bytes, value_type=bytes)
deadletter_topic: Final = app.topic(settings.topics.deadletter, key_type=bytes, value_type=bytes)
