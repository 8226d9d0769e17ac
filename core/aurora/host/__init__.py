"""The plugin host: the hook contract, the registry of installed plugins, and pipelines that select them."""
