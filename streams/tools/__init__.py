"""Operator and developer tools behind the ``distillguard`` command line (no worker code)."""
