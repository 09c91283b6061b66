"""Per-network (ASN) detection: activity re-keyed by ASN, network state, network risk."""
