"""Kafka wiring: the Faust app, topics, agents, views and the ``distillguard`` CLI."""
