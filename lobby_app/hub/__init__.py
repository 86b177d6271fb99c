"""The branch hub: one process owns the store; stations reach it by WebSocket."""
