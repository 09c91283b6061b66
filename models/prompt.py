"""Prompt text -> privacy-preserving features (64-bit SimHash, CoT-elicitation score).

Used only at the edge, when a producer sends raw ``prompt`` text: the text is reduced to
these numbers and dropped. Hashing uses BLAKE2b, not Python's ``hash()``, so every process
and every replay computes the same SimHash.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Final

import numpy as np

_WORD: Final = re.compile(r"\w+", re.UNICODE)
_BIT_WEIGHTS: Final = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))

# Phrases that ask a model to expose its reasoning. Each hit raises the score; the score is a
# heuristic stand-in for an upstream classifier, used only when the producer sends raw text.
_COT_PATTERNS: Final = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"step[- ]by[- ]step",
        r"chain[- ]of[- ]thought",
        r"(show|reveal|explain|print|output|write out|include) (all |the |your )*"
        r"(full |complete |entire |internal |hidden )*(reasoning|thinking|thought process|"
        r"thoughts|scratchpad|work)",
        r"think(ing)? (out loud|aloud)",
        r"internal monologue",
        r"reasoning trace",
        r"<\s*(thinking|reasoning|scratchpad)\s*>",
        r"before (you )?answer(ing)?,? (explain|describe|list)",
        r"do not (skip|omit|summari[sz]e) (any )?(steps|reasoning)",
    )
)


def normalise(text: str) -> list[str]:
    """Lower-cased word tokens: SimHash should not change with spacing or case."""
    return _WORD.findall(text.lower())


def _feature_hashes(tokens: list[str]) -> np.ndarray:
    # Word 2-shingles (plus single words for very short prompts) keep some word order.
    shingles = [" ".join(tokens[i : i + 2]) for i in range(max(len(tokens) - 1, 0))]
    shingles = shingles or tokens
    digests = [
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
        for s in shingles
    ]
    return np.array(digests, dtype=np.uint64)


def prompt_simhash(text: str) -> int:
    """64-bit SimHash of the normalised prompt (0 for a prompt with no words).

    >>> a = prompt_simhash("Translate the following sentence into French: the cat sleeps.")
    >>> b = prompt_simhash("translate the following   sentence into french: the cat sleeps")
    >>> a == b
    True
    >>> bin(a ^ prompt_simhash("Write a haiku about autumn leaves")).count("1") > 10
    True
    """
    tokens = normalise(text)
    if not tokens:
        return 0
    hashes = _feature_hashes(tokens)
    bits = (hashes[:, None] & _BIT_WEIGHTS[None, :]) != 0
    votes = bits.sum(axis=0) * 2 - len(hashes)
    return int(_BIT_WEIGHTS[votes > 0].sum(dtype=np.uint64))


def cot_elicitation_score(text: str) -> float:
    """0..1: how strongly the prompt asks for the model's reasoning to be revealed.

    >>> cot_elicitation_score("What is the capital of France?")
    0.0
    >>> cot_elicitation_score("Think step by step and show your full reasoning.") > 0.7
    True
    """
    hits = sum(1 for pattern in _COT_PATTERNS if pattern.search(text))
    return round(1.0 - math.exp(-0.8 * hits), 4)
