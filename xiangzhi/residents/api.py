"""Residents API (filled in by the registry API work)."""
from ninja import Router

router = Router(tags=["户籍档案"])
