"""The node API: the decorator, params, the run context, resolve checks and the pack registry."""
