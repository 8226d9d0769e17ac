"""Plumbing shared by every subsystem: where indexes and user files live."""
