"""The typed contract of ``serve``'s ``/v1`` API. The models live with the client
(``nodeflow.client.models``), which must import without the server's dependencies."""

from nodeflow.client.models import *  # noqa: F401,F403
from nodeflow.client.models import __all__  # noqa: F401
