"""Searching an index: the request, the ranking stages and the snippets of results."""
