"""Duplicate detection: match keys, scoring, the duplicate queue, merge and undo."""


def init_app(app) -> None:
    from registry.matching import models  # noqa: F401
