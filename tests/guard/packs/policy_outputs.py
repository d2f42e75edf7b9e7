"""A test pack: an output node with the ``credentials`` and ``watermark`` params that delivery gives
the real output nodes, so the policy's output rules can be tested before and after that lands."""

from nodeflow import Param, node


@node("policytest.deliver", category="Test", output=True, outputs=("text",))
def deliver(
    text: str,
    *,
    credentials: bool = False,
    watermark: str = Param("none", choices=("none", "dwtdct", "rivagan")),
) -> str:
    """Pretend to deliver a text with credentials and a watermark."""
    return text
