"""Semantic search: embedding models, where they live, loading them in the background, and vector tables."""
