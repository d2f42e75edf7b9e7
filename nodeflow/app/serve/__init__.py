"""``nodeflow serve``: the /v1 HTTP API for integrators."""
