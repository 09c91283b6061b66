"""What one stream's requests contain, drawn as whole columns at once (vectorised).

Prompts exist only as 64-bit SimHashes: near-duplicates are bit flips of a base, so the
detector sees the same prompt structure it would from real text without any text.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from models.simulator.accounts import Account, Shared
from models.simulator.draws import I64, U64, Rng, int_in, pick, random64
from models.simulator.profiles import ENDPOINTS, MODELS, Content, Prompts, Weights
from models.simulator.timing import Times
from models.simulator.world import N_COMMON, PUBLIC_BENCHMARKS, World


def _flips(rng: Rng, n: int, low: int, high: int) -> U64:
    """XOR masks of ``low..high`` random bits (a repeated bit cancels: "up to")."""
    mask = np.zeros(n, dtype=np.uint64)
    if high <= 0 or n == 0:
        return mask
    count = rng.integers(low, high + 1, size=n)
    bits = rng.integers(0, 64, size=(n, high)).astype(np.uint64)
    for j in range(high):
        mask ^= np.where(count > j, np.left_shift(np.uint64(1), bits[:, j]), np.uint64(0))
    return mask


def _bases(rng: Rng, world: World, prompts: Prompts, shared: Shared) -> U64:
    """The prompt SimHashes an account's traffic clusters around (empty for fresh prompts)."""
    if prompts.mode == "fresh":
        return random64(rng, 0)
    if prompts.shared:
        return shared.families
    if prompts.mode == "benchmark":
        public = rng.choice(PUBLIC_BENCHMARKS, int_in(rng, prompts.families), replace=False)
        own = random64(rng, int_in(rng, prompts.private))
        return np.concatenate([*(world.benchmarks[int(b)] for b in public), own])
    return random64(rng, int_in(rng, prompts.families))


def _benchmark(rng: Rng, questions: U64, sess: I64, pos: I64) -> U64:
    """Every run walks the same question set in a fresh order (repeating if the run is long)."""
    out = np.empty(len(pos), dtype=np.uint64)
    for run in np.unique(sess):
        sel = sess == run
        out[sel] = questions[rng.permutation(len(questions))[pos[sel] % len(questions)]]
    return out


def _mix(rng: Rng, world: World, prompts: Prompts, h: U64) -> U64:
    """Blend in brand-new prompts, common ones, and regenerations of the previous prompt."""
    n = len(h)
    u = rng.random(n)
    fresh = u < prompts.p_fresh
    h[fresh] = random64(rng, int(fresh.sum()))
    common = (u >= prompts.p_fresh) & (u < prompts.p_fresh + prompts.p_common)
    h[common] = world.common[pick(rng, 1.0 / np.arange(1, N_COMMON + 1), int(common.sum()))]
    if prompts.p_retry > 0 and n > 1:
        retry = rng.random(n) < prompts.p_retry
        retry[0] = False
        source = np.maximum.accumulate(np.where(retry, 0, np.arange(n)))
        h[retry] = h[source[retry]] ^ _flips(rng, int(retry.sum()), 0, 3)
    return h


def _simhashes(
    rng: Rng, world: World, prompts: Prompts, shared: Shared, sess: I64, pos: I64
) -> U64:
    n = len(pos)
    bases = _bases(rng, world, prompts, shared)
    if prompts.mode == "fresh":
        h = random64(rng, n)
    elif prompts.mode == "benchmark":
        h = _benchmark(rng, bases, sess, pos)
    else:  # near one of a few bases, each account with its own favourites
        favourite = pick(rng, rng.dirichlet(np.ones(len(bases))), n)
        h = bases[favourite] ^ _flips(rng, n, *prompts.flips)
    return _mix(rng, world, prompts, h)


def _weighted(rng: Rng, table: tuple[str, ...], weights: Weights, n: int) -> npt.NDArray[Any]:
    index = np.array([table.index(name) for name, _ in weights], dtype=np.int8)
    return index[pick(rng, [w for _, w in weights], n)]


def _per_session(rng: Rng, options: list[int], sess: I64) -> npt.NDArray[np.int32]:
    """One of ``options`` per session (a session keeps its network and client)."""
    n_sessions = int(sess.max()) + 1 if len(sess) else 0
    picked = np.asarray(options, dtype=np.int32)[rng.integers(len(options), size=n_sessions)]
    return picked[sess]


def _rotating_nets(rng: Rng, world: World, acc: Account, sess: I64) -> npt.NDArray[np.int32]:
    """Proxy networks: a fresh exit address (in one of the account's ASNs) per session."""
    n_sessions = int(sess.max()) + 1 if len(sess) else 0
    asns = rng.integers(len(acc.asns), size=n_sessions)
    hosts = rng.integers((0, 1), (256, 255), size=(n_sessions, 2))
    ids = [
        world.add_net(acc.asns[int(a)], (int(h[0]), int(h[1])))
        for a, h in zip(asns, hosts, strict=True)
    ]
    return np.asarray(ids, dtype=np.int32)[sess]


def stream_columns(
    rng: Rng, world: World, acc: Account, c: Content, shared: Shared, times: Times
) -> dict[str, npt.NDArray[Any]]:
    """Every column but the account's, for one stream's requests."""
    ts, pos, sess = times
    n = len(ts)
    reasoning = rng.random(n) < c.reasoning
    u = rng.random(n)
    status = np.where(u < c.p429, 429, np.where(u < c.p429 + c.p500, 500, 200)).astype(np.int16)
    think = np.where(reasoning, c.think, 1.0)
    median, sigma, low, high = c.output
    output = np.clip(rng.lognormal(math.log(median), sigma, n) * think, low, high * think)
    cot_weights, cot_low, cot_high = (np.array(x) for x in zip(*c.cot, strict=True))
    part = pick(rng, cot_weights, n)
    cot = cot_low[part] + (cot_high - cot_low)[part] * rng.random(n)
    growth = 1.0 + c.context * pos
    prompt_tokens = rng.lognormal(math.log(c.input[0]), c.input[1], n) * growth
    nets = (
        _rotating_nets(rng, world, acc, sess) if acc.rotate else _per_session(rng, acc.nets, sess)
    )
    return {
        "ts": ts,
        "net": nets,
        "key": np.asarray(acc.keys, dtype=np.int32)[rng.integers(len(acc.keys), size=n)],
        "fp": _per_session(rng, acc.fingerprints, sess),
        "model": _weighted(rng, MODELS, c.models, n),
        "endpoint": _weighted(rng, ENDPOINTS, c.endpoints, n),
        "status": status,
        "reasoning": reasoning,
        "simhash": _simhashes(rng, world, c.prompts, shared, sess, pos),
        "cot": np.round(cot, 3),
        "input": np.clip(prompt_tokens, 1, 200_000).astype(np.int32),
        "output": np.where(status == 200, output, 0).astype(np.int32),
    }
