"""Per-account detection: state table, population models, the request-processing agent."""
