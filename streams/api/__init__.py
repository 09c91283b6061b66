"""The HTTP API and the operator page: policy, entities, alerts, health, stats."""
