"""HTTP routes of this area (filled in by its issue)."""

from __future__ import annotations

from fastapi import FastAPI

from ..context import AppContext


def mount(app: FastAPI, ctx: AppContext) -> None:
    """Add this area's routes and middleware to ``app``."""
