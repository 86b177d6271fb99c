"""Marks user-facing strings for translation.

Every Chinese string shown to people goes through ``tr`` so a translation catalogue can
be put in later without touching the call sites; today it returns the text unchanged.
"""

from __future__ import annotations


def tr(text: str) -> str:
    return text
