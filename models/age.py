"""Account age bands, named once: what "new", "young" and "established" mean everywhere.

Creation times are event-time seconds; 0 means unknown, and an account of unknown age is in
no band. The bands are nested: every new account is also young.
"""

from __future__ import annotations

from typing import Final

from models.units import DAY

# New: days old. A new account at full harvest speed is the reported pattern, so account
# scoring weighs its own evidence most here; networks count their new accounts (the ASN
# features' ``young_*`` wire names predate this band and mean new).
NEW_DAYS: Final = 7.0
# Young: recently created, as campaign linkage counts it (link cadence, a group's and a
# campaign's young share) and as account scoring's full-harvest-signature rule does.
YOUNG_DAYS: Final = 30.0
# Established: months of paid history (evaluation harnesses, enterprises, resellers). Its own
# traffic alone never throttles such an account, and its age factor is at the minimum.
ESTABLISHED_DAYS: Final = 180.0


def is_new(created_ts: float, now: float) -> bool:
    """Created less than ``NEW_DAYS`` before ``now`` (0 = unknown = not new)."""
    return created_ts > 0 and now - created_ts < NEW_DAYS * DAY


def is_young(created_ts: float, now: float) -> bool:
    """Created less than ``YOUNG_DAYS`` before ``now`` (0 = unknown = not young)."""
    return created_ts > 0 and now - created_ts < YOUNG_DAYS * DAY
