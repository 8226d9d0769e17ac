"""Usage activation: the ACT-R model, the access history it reads, and ``aurora feedback``."""
