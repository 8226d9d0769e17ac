"""Indexing: walk a tree, chunk its files, store chunks in SQLite, build lexical indexes."""
