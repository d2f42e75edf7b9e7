"""What a running node holds, so that the pool runs one model at a time per device.

A node says so with ``@node(holds=...)``. Otherwise: a node that reaches for the model manager or
the device (``ctx.models``, ``ctx.device``) holds the device, and so does a node that takes a value
of a type that such a node makes from params alone (a loaded model handle: whoever receives it runs
the model), or of a type a disk-cached node makes (a trained model), and so does the node that makes
one (a trainer). Everything else is ``light`` and runs beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.nodetypes.decorator import InputSpec, NodeSpec, OutputSpec
    from nodeflow.nodetypes.registry import Registry

__all__ = ["holds_of"]


def holds_of(spec: NodeSpec, registry: Registry) -> str:
    """``device``, ``cpu`` or ``light`` for a node type (worked out once per type)."""
    if spec.holds is not None:
        return spec.holds
    model_types = _model_types(registry)
    ports: list[InputSpec | OutputSpec] = [*spec.inputs.values(), *spec.outputs.values()]
    if _reaches_models(spec) or any(port.type in model_types for port in ports):
        spec.holds = "device"
    else:
        spec.holds = "light"
    return spec.holds


def _reaches_models(spec: NodeSpec) -> bool:
    code = getattr(spec.func, "__code__", None)
    return bool(spec.wants_ctx and code is not None and {"models", "device"} & set(code.co_names))


def _model_types(registry: Registry) -> set[str]:
    found = registry.__dict__.get("_model_types")
    if found is None:
        # what loaders make (nodes that reach the model manager, or say they hold the device, and read
        # no other node), and what trainers make (disk-cached results)
        found = {
            output.type
            for spec in registry.specs.values()
            if ((_reaches_models(spec) or spec.holds == "device") and not any(not i.optional for i in spec.inputs.values()))
            or spec.cache == "disk"
            for output in spec.outputs.values()
        } - {"Image", "String", "Int", "Float", "Boolean", "JSON", "File", "Any", "Audio"}
        registry.__dict__["_model_types"] = found
    return found
