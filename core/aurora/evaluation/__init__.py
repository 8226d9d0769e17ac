"""``aurora eval``: score a pipeline on benchmark datasets."""
