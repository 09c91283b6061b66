"""Time units in seconds of event time: the one definition every module uses."""

from __future__ import annotations

from typing import Final

MINUTE: Final = 60.0
HOUR: Final = 3_600.0
DAY: Final = 86_400.0
