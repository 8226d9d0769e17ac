"""Serving: the warm server, its wire protocol and endpoint, the fast client path, HTTP and MCP front ends."""
