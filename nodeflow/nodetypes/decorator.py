"""The node decorator: a typed Python function becomes a node type.

    @node("image.blend", category="Image")
    def blend(a: Image, b: Image, *, alpha: float = Param(0.5, min=0, max=1)) -> Image:
        '''Mix two images: alpha 0 gives a, 1 gives b.'''

Annotated positional parameters are input ports, keyword-only parameters are params (widgets), the
return annotation gives the outputs (a NamedTuple for several), the docstring is the tooltip. A
parameter named ``ctx`` (or annotated ``Context``) receives the run context.
"""

from __future__ import annotations

import inspect
import os
import typing
from dataclasses import dataclass, field
from typing import Any

from nodeflow.ports.core import PortType, get_type

from .params import Param

if typing.TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["node", "NodeSpec", "InputSpec", "OutputSpec", "NodeDefinitionError", "node_memory_limit"]

CACHE_MODES = ("memory", "disk", "none")
# what a running node holds: "device" runs a model (one such node per device at a time), "cpu" is
# heavy CPU work, "light" is everything else; None lets the engine decide (see default_holds)
HOLDS = ("device", "cpu", "light")


class NodeDefinitionError(TypeError):
    """A node function cannot be turned into a node type (a pack author's mistake)."""


@dataclass(frozen=True)
class InputSpec:
    name: str
    type: str
    optional: bool = False
    description: str = ""
    many: bool = False  # annotated list[T]: collects every sweep item of what it reads into one list


@dataclass(frozen=True)
class OutputSpec:
    name: str
    type: str


@dataclass
class NodeSpec:
    """Everything the engine and the editor know about a node type."""

    type: str
    func: Callable[..., Any]
    category: str
    description: str
    inputs: dict[str, InputSpec]
    outputs: dict[str, OutputSpec]
    params: dict[str, Param]
    version: int = 1
    output: bool = False
    cache: str = "memory"
    fingerprint: Callable[..., Any] | None = None
    migrations: dict[int, Callable[[dict], dict]] = field(default_factory=dict)
    # estimate(params) -> (bytes of memory the node will need, the param that drives it); see node()
    estimate: Callable[[dict[str, Any]], tuple[int, str] | None] | None = None
    wants_ctx: bool = False
    pack: str = ""
    title: str = ""
    multi_output: bool = False
    holds: str | None = None  # None: decided by default_holds when first asked
    # native batching: batch(list of kwargs[, ctx]) -> one result per item, in one call
    batch: Callable[..., Any] | None = None
    batch_wants_ctx: bool = False
    reads: tuple[str, ...] = ()  # params naming model or data files the node reads (hashed in provenance)
    retry: bool | None = None  # safe to run twice after a worker died? None: yes unless an output node
    # done(params, ctx) -> the node's result when this call's work is already kept outside the caches, else None
    done: Callable[..., Any] | None = None

    @property
    def safe_to_retry(self) -> bool:
        """Whether a backend may run the node again when the worker running it died: a node that
        only computes may; an output node (it writes files) may not; ``@node(retry=...)`` decides
        for a node with other effects (or one whose writes are safe to repeat)."""
        return (not self.output) if self.retry is None else self.retry

    @property
    def output_index(self) -> dict[str, int]:
        """Output name -> position in the tuple of values a run produces."""
        index = self.__dict__.get("_output_index")
        if index is None:
            index = self.__dict__["_output_index"] = {name: i for i, name in enumerate(self.outputs)}
        return index

    @property
    def required_inputs(self) -> tuple[tuple[str, str], ...]:
        """``(name, type)`` of the inputs that must be linked (worked out once: validation asks per node)."""
        required = self.__dict__.get("_required_inputs")
        if required is None:
            required = self.__dict__["_required_inputs"] = tuple(
                (name, i.type) for name, i in self.inputs.items() if not i.optional)
        return required

    @property
    def many_inputs(self) -> frozenset[str]:
        """The list inputs (``many``), which gather several values (worked out once: a run asks per node)."""
        many = self.__dict__.get("_many_inputs")
        if many is None:
            many = self.__dict__["_many_inputs"] = frozenset(name for name, i in self.inputs.items() if i.many)
        return many

    def catalog_entry(self) -> dict[str, Any]:
        """The JSON form served to the editor (``nodeflow nodes --json``)."""
        return {
            "type": self.type,
            "title": self.title,
            "category": self.category,
            "description": self.description,
            "version": self.version,
            "pack": self.pack,
            "output": self.output,
            "cache": self.cache,
            "batch": self.batch is not None,
            "inputs": [
                {"name": i.name, "type": i.type, "optional": i.optional, **({"many": True} if i.many else {})}
                for i in self.inputs.values()
            ],
            "outputs": [{"name": o.name, "type": o.type} for o in self.outputs.values()],
            "params": [p.spec() for p in self.params.values()],
        }

    def split_result(self, result: Any) -> tuple:
        """Normalise what the function returned into one value per output, in order."""
        count = len(self.outputs)
        if count == 0:
            return ()
        if not self.multi_output:
            return (result,)
        if isinstance(result, dict):
            try:
                return tuple(result[name] for name in self.outputs)
            except KeyError as exc:
                raise TypeError(f"node returned no value for output {exc.args[0]!r}") from None
        if not isinstance(result, tuple) or len(result) != count:
            raise TypeError(f"node must return {count} values ({', '.join(self.outputs)})")
        return tuple(result)


def node_memory_limit() -> int:
    """Bytes one node may ask for, by its ``estimate``: ``NODEFLOW_NODE_MAX_MB`` (default 1024)."""
    try:
        return int(float(os.environ.get("NODEFLOW_NODE_MAX_MB", "1024")) * 2**20)
    except ValueError:
        return 1024 * 2**20


# The single place node types are collected; the registry decides which pack they belong to.
_DEFINED: dict[str, NodeSpec] = {}
_DEFINITION_LISTENERS: list[Callable[[NodeSpec], None]] = []


def node(
    type_name: str,
    *,
    category: str = "",
    version: int = 1,
    output: bool = False,
    cache: str = "memory",
    fingerprint: Callable[..., Any] | None = None,
    migrations: dict[int, Callable[[dict], dict]] | None = None,
    outputs: tuple[str, ...] | None = None,
    title: str = "",
    estimate: Callable[[dict[str, Any]], tuple[int, str] | None] | None = None,
    holds: str | None = None,
    batch: Callable[..., Any] | None = None,
    reads: tuple[str, ...] = (),
    retry: bool | None = None,
    done: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a node type. See the module docstring for the shape.

    ``fingerprint(**params)`` returns something that changes when the world the node reads changes
    (a file's content hash); ``cache="disk"`` keeps results across processes; ``migrations`` maps an
    old version to a function that upgrades a node entry of that version by one step.
    ``estimate(params)`` cheaply works out, from the params alone, the memory a run will need, as
    ``(bytes, name of the param that drives it)`` (or None when it cannot tell; linked values are
    ``...``); validation refuses a node whose estimate passes the per-node limit (``NODEFLOW_NODE_MAX_MB``), naming that param.

    ``holds`` says what the node holds while it runs (``device``, ``cpu`` or ``light``; by default a
    node that loads or runs a model holds its device). ``batch(calls[, ctx])``, when given, runs
    several sweep items in one call: ``calls`` is a list of the keyword arguments one call of the
    node would get, and it returns one result per item (as the node function would return it).

    ``reads`` names params whose value is a model or data file or folder the node reads (besides
    ``file`` params), so provenance records its content hash. ``retry`` says whether the node is safe
    to run again when the worker running it died (by default: yes, unless it is an output node); say
    ``retry=False`` for a node with effects outside its result (a message sent, a row appended).

    ``done(params, ctx)``, when given, is asked before a run (for each sweep item of the node) whether
    that call's result is already made and kept somewhere of the node's own (a dataset item in a
    finished shard): it returns what the node would return, or None. A result it returns counts as
    cached, so nothing upstream of that call runs. ``ctx.key`` is the call's cache key.
    """
    if cache not in CACHE_MODES:
        raise NodeDefinitionError(f"{type_name}: cache must be one of {CACHE_MODES}")
    if holds is not None and holds not in HOLDS:
        raise NodeDefinitionError(f"{type_name}: holds must be one of {HOLDS}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        spec = build_spec(
            func,
            type_name,
            category=category or type_name.split(".")[0].title(),
            version=version,
            output=output,
            cache=cache,
            fingerprint=fingerprint,
            migrations=dict(migrations or {}),
            output_names=outputs,
            title=title,
            estimate=estimate,
            holds=holds,
            batch=batch,
            batch_wants_ctx=batch is not None and "ctx" in inspect.signature(batch).parameters,
        )
        spec.reads = tuple(reads)
        spec.retry = retry
        spec.done = done
        func.__nodeflow__ = spec  # type: ignore[attr-defined]
        _DEFINED[type_name] = spec
        for listener in _DEFINITION_LISTENERS:
            listener(spec)
        return func

    return decorate


def build_spec(
    func: Callable[..., Any],
    type_name: str,
    *,
    output_names: tuple[str, ...] | None = None,
    **options: Any,
) -> NodeSpec:
    try:
        hints = typing.get_type_hints(func, include_extras=False)
    except Exception as exc:  # an annotation that does not resolve
        raise NodeDefinitionError(f"{type_name}: cannot read annotations: {exc}") from exc
    signature = inspect.signature(func)
    inputs: dict[str, InputSpec] = {}
    params: dict[str, Param] = {}
    wants_ctx = False
    for name, parameter in signature.parameters.items():
        annotation = hints.get(name, parameter.annotation)
        if name == "ctx" or getattr(annotation, "__name__", "") == "Context":
            wants_ctx = True
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise NodeDefinitionError(f"{type_name}: *args and **kwargs cannot be ports")
        if parameter.kind == parameter.KEYWORD_ONLY:
            params[name] = _param_for(type_name, name, parameter, annotation)
            continue
        if annotation is inspect.Parameter.empty:
            raise NodeDefinitionError(f"{type_name}: input {name!r} needs a type annotation")
        many = typing.get_origin(annotation) is list
        if many:
            (annotation,) = typing.get_args(annotation) or (Any,)
        port_type, optional = _port_type(type_name, name, annotation)
        optional = optional or parameter.default is not inspect.Parameter.empty
        inputs[name] = InputSpec(name, port_type, optional, many=many)

    out_specs, multi = _outputs(type_name, hints.get("return", signature.return_annotation), output_names)
    overlap = set(inputs) & set(params)
    if overlap:
        raise NodeDefinitionError(f"{type_name}: {overlap} is both an input and a param")
    doc = inspect.getdoc(func) or ""
    return NodeSpec(
        type=type_name,
        func=func,
        description=doc,
        inputs=inputs,
        outputs=out_specs,
        params=params,
        wants_ctx=wants_ctx,
        multi_output=multi,
        title=options.pop("title") or _title(type_name),
        **options,
    )


def _param_for(type_name: str, name: str, parameter: inspect.Parameter, annotation: Any) -> Param:
    default = parameter.default
    if isinstance(default, Param):
        param = default
    elif default is inspect.Parameter.empty:
        raise NodeDefinitionError(f"{type_name}: param {name!r} needs a default or a Param(...)")
    else:
        kind = {int: "int", float: "float", bool: "bool", str: "string"}.get(annotation)
        param = Param(default, kind=kind)
    if param.kind == "float" and annotation is int:
        raise NodeDefinitionError(f"{type_name}: param {name!r} is annotated int but has a float spec")
    if annotation is float and param.kind == "int":
        param.kind = "float"
        param.default = float(param.default)
    param.name = name
    return param


def _port_type(type_name: str, name: str, annotation: Any) -> tuple[str, bool]:
    optional = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise NodeDefinitionError(f"{type_name}: port {name!r} must have one type")
        annotation = args[0]
    if annotation is Any:
        return "Any", optional
    found = get_type(annotation) if isinstance(annotation, (str, type, PortType)) else None
    if found is None:
        raise NodeDefinitionError(
            f"{type_name}: port {name!r} has type {annotation!r}, which is not a registered port type"
        )
    return found.name, optional


_DEFAULT_OUTPUT_NAME = {"String": "text", "Int": "value", "Float": "value", "Boolean": "value"}


def _outputs(
    type_name: str, annotation: Any, names: tuple[str, ...] | None
) -> tuple[dict[str, OutputSpec], bool]:
    if annotation in (None, type(None), inspect.Signature.empty):
        return {}, False
    fields = getattr(annotation, "__annotations__", None)
    if isinstance(annotation, type) and issubclass(annotation, tuple) and fields:
        specs = {}
        for field_name, field_type in typing.get_type_hints(annotation).items():
            port, _ = _port_type(type_name, field_name, field_type)
            specs[field_name] = OutputSpec(field_name, port)
        return specs, True
    port, _ = _port_type(type_name, "return", annotation)
    name = names[0] if names else _DEFAULT_OUTPUT_NAME.get(port, port.lower())
    return {name: OutputSpec(name, port)}, False


def _title(type_name: str) -> str:
    return type_name.split(".")[-1].replace("_", " ").capitalize()


def defined_specs() -> dict[str, NodeSpec]:
    return _DEFINED
