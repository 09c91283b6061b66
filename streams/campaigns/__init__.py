"""Campaign detection: link groups per key, the campaign registry, campaign evidence."""
