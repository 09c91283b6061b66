"""Locality-sensitive hashing of 64-bit prompt SimHashes, so near-duplicate prompts from
different accounts meet in the same bucket (the seed of campaign detection).

The 64 bits are cut into ``BANDS`` bands of 16 bits. Two SimHashes within Hamming distance
``BANDS - 1`` differ in at most that many bands, so at least one band is identical
(pigeonhole): near duplicates (distance <= 3) *always* share a bucket. Unrelated prompts
share a given band with probability 2^-16, any of the four with about 4 x 2^-16 = 6.1e-5.
"""

from __future__ import annotations

from typing import Final

BANDS: Final = 4
BAND_BITS: Final = 64 // BANDS
_MASK: Final = (1 << BAND_BITS) - 1


def buckets(simhash: int) -> list[str]:
    """The bucket keys of one SimHash, one per band (``"b<band>:<hex value>"``).

    >>> buckets(0x0123456789ABCDEF)
    ['b0:cdef', 'b1:89ab', 'b2:4567', 'b3:0123']
    """
    return [f"b{band}:{(simhash >> (band * BAND_BITS)) & _MASK:04x}" for band in range(BANDS)]


def share_bucket(a: int, b: int) -> bool:
    """Whether two SimHashes meet in at least one bucket."""
    return any(x == y for x, y in zip(buckets(a), buckets(b), strict=True))
