"""River anomaly detectors, one module each (``learn_one`` / ``score_one``)."""

from models.detectors.population_tail import PopulationTail

__all__ = ["PopulationTail"]
