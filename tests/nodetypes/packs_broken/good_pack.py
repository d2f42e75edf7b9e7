"""A single-file pack beside a broken one."""

from nodeflow import Param, node


@node("good.constant", category="Test")
def constant(*, value: int = Param(42)) -> int:
    """Always the same number."""
    return value
