"""Live control: the policy holder every agent reads, and how the policy changes."""
