"""How far an entity's features sit above the population's upper tail."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from river import base, stats


class PopulationTail(base.AnomalyDetector):
    """Score = how many tail widths the worst feature sits above the population's ``q_high``.

    Each feature is compared in ``log1p`` space, where API volumes (heavy-tailed over orders of
    magnitude) are roughly symmetric. The tail width is the gap between the ``q_high`` and
    ``q_mid`` quantiles, floored at ``log(min_ratio)``, so "one width above p99" means "as far
    above p99 as p99 is above the median". Memory is two P² quantile sketches per feature
    (constant), which is why it can serve every account of a partition at once.

    Parameters
    ----------
    q_high
        The population quantile treated as the edge of normal.
    q_mid
        The reference quantile for the tail width.
    min_samples
        Scores are 0 until this many vectors were learned: no verdicts from a cold population.
    min_ratio
        The smallest tail width, as a ratio of values (2.0: p99 counts as at least 2x the median).
    min_edge
        Per feature, the smallest value the edge of normal may take, in the feature's units: a
        count that is almost always 0 (a median of 0, a p95 of 0.6) must not make 12 look
        extreme.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(42)
    >>> model = PopulationTail(min_samples=50)
    >>> for _ in range(500):
    ...     model.learn_one({"rpm": rng.lognormvariate(0, 0.5)})
    >>> model.score_one({"rpm": 1.0})
    0.0
    >>> model.score_one({"rpm": 200.0}) > 2
    True
    """

    def __init__(
        self,
        q_high: float = 0.99,
        q_mid: float = 0.5,
        min_samples: int = 100,
        min_ratio: float = 2.0,
        min_edge: dict[Any, float] | None = None,
    ) -> None:
        self.q_high = q_high
        self.q_mid = q_mid
        self.min_samples = min_samples
        self.min_ratio = min_ratio
        self.min_edge = min_edge
        self._high: dict[Any, stats.Quantile] = {}
        self._mid: dict[Any, stats.Quantile] = {}
        # (q_high level, tail width) per feature; rebuilt after learning, read on every score
        self._edges: dict[Any, tuple[float, float]] | None = None
        self.n_learned = 0

    def learn_one(self, x: dict[Any, Any]) -> None:
        for name, value in x.items():
            level = math.log1p(max(float(value), 0.0))
            if name not in self._high:
                self._high[name] = stats.Quantile(self.q_high)
                self._mid[name] = stats.Quantile(self.q_mid)
            self._high[name].update(level)
            self._mid[name].update(level)
        self.n_learned += 1
        self._edges = None

    def score_one(self, x: dict[Any, Any]) -> float:
        excesses = self.excess(x)
        return max(0.0, *excesses.values()) if excesses else 0.0

    def excess(self, x: dict[Any, Any]) -> dict[Any, float]:
        """Per feature: tail widths above ``q_high`` (negative when below); empty while cold."""
        if self.n_learned < self.min_samples:
            return {}
        edges = self._current_edges()
        out = {}
        for name, value in x.items():
            edge = edges.get(name)
            if edge is not None:
                out[name] = (math.log1p(max(float(value), 0.0)) - edge[0]) / edge[1]
        return out

    def edge(self, name: Any) -> float | None:
        """The population's ``q_high`` of one feature, in the feature's own units."""
        if self.n_learned < self.min_samples:
            return None
        edge = self._current_edges().get(name)
        return None if edge is None else math.expm1(edge[0])

    def _current_edges(self) -> dict[Any, tuple[float, float]]:
        if self._edges is None:
            floor = math.log(self.min_ratio)
            lowest = self.min_edge or {}
            self._edges = {}
            for name, high in self._high.items():
                edge = max(_value(high), math.log1p(lowest.get(name, 0.0)))
                self._edges[name] = (edge, max(edge - _value(self._mid[name]), floor))
        return self._edges

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        """River's estimator checks run once per set: a quickly warm model, and one with
        every parameter away from its default (``min_edge`` on the checks' ``x`` feature)."""
        yield {"min_samples": 10}
        yield {"q_high": 0.95, "min_samples": 20, "min_ratio": 1.5, "min_edge": {"x": 3.0}}


def _value(quantile: stats.Quantile) -> float:
    value = quantile.get()
    return 0.0 if value is None else float(value)
