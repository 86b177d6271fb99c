"""PySide6 windows of the app; the only package that imports Qt."""
