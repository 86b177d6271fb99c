"""Lobby management for Chinese retail bank branches."""

__version__ = "0.1.0"
