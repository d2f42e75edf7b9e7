"""Where generated content flows through a graph: which nodes make it (generators), which hold it,
and which hold some that no guard of a kind the policy lists has seen.

Content is *generated* when any path from a generator reaches it (through every node, list and
subgraph); it has passed a guard kind when every such path goes through a running guard of that kind
whose action the policy accepts (``actions``: block or redact by default). An exempt node (a
measurement) stops the flow only when it gives no content (numbers, not text or images).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from .policy_file import Policy, type_matches

__all__ = ["CONTENT_TYPES", "GENERATIVE_MODEL_TYPES", "ContentFlow", "content_flow", "guard_counts", "guard_pattern",
           "is_generator"]

# port types that carry models (what a generator runs) and those that carry content (what it makes)
GENERATIVE_MODEL_TYPES = frozenset({
    "LanguageModel", "DiffusionPipeline", "Denoiser", "VAE", "DiffusionModel", "GANModel", "TrainedLM", "VAEModel",
})  # fmt: skip
CONTENT_TYPES = frozenset({
    "String", "Code", "Image", "Latent", "Latents", "Audio", "Video", "Frames", "ImageSet", "File", "JSON",
    "TextDataset", "ImageDataset", "TextExamples", "Any",
})  # fmt: skip


@dataclass
class ContentFlow:
    """Which nodes hold generated content, and which hold some that a guard kind has not seen.

    ``generated[node]``: the generators whose content reaches it (an empty set: none).
    ``unguarded[kind][node]``: the generators whose content reaches it on a path with no running guard
    of ``kind`` whose action the policy accepts.
    """

    generators: set[str]
    generated: dict[str, set[str]]
    unguarded: dict[str, dict[str, set[str]]]
    weak_guards: dict[str, str]  # guard node -> why it does not count (its action)


def is_generator(node: Any, spec: Any, policy: Policy) -> bool:
    """A node makes generated content when its type is listed in the policy's ``generators``, or when
    it runs a generative model: it takes a model port (a language or diffusion model, a denoiser, a
    VAE...) and gives content (text, images, latents, audio, video). Guards and measurements
    (``exempt``) never do."""
    if node.type.startswith("guard.") or getattr(node, "mode", "run") != "run":
        return False
    if type_matches(node.type, policy.generators):
        return True
    if spec is None:
        return False
    declared = getattr(spec, "generates", None)
    if declared is not None:
        return bool(declared)
    takes_model = any(i.type in GENERATIVE_MODEL_TYPES for i in spec.inputs.values())
    gives_content = any(o.type in CONTENT_TYPES - {"File", "JSON"} for o in spec.outputs.values())
    return takes_model and gives_content and not type_matches(node.type, policy.exempt)


def content_flow(graph: Any, live: dict[str, Any], registry: Any, policy: Policy) -> ContentFlow:
    """Follow generated content through ``live`` (the graph's nodes that run), in data-flow order."""
    from nodeflow.graph.order import topological_order

    found, cycle = topological_order(graph)
    order = [nid for nid in (found if not cycle else live) if nid in live]
    specs = {nid: registry.get(n.type) for nid, n in live.items()}
    kinds = list(policy.guards)
    generators = {nid for nid in order if is_generator(live[nid], specs[nid], policy)}
    checks = _checkable_types(registry, kinds)
    required = {nid: _required_kinds(specs[nid], kinds, checks) for nid in generators}
    generated: dict[str, set[str]] = {}
    unguarded: dict[str, dict[str, set[str]]] = {kind: {} for kind in kinds}
    weak: dict[str, str] = {}
    for nid in order:
        node, spec = live[nid], specs[nid]
        sources = [src for src, _ in node.inputs.values() if src in live]
        measurement = spec is not None and type_matches(node.type, policy.exempt) and not any(
            o.type in CONTENT_TYPES - {"JSON"} for o in spec.outputs.values())
        if measurement:  # scores (numbers, JSON of numbers): no content; a file it writes would be
            generated[nid] = set()
            for kind in kinds:
                unguarded[kind][nid] = set()
            continue
        mine = {nid} if nid in generators else set()
        generated[nid] = mine.union(*(generated.get(src, set()) for src in sources))
        guard_ok, why = guard_counts(node, spec, policy)
        if node.type.startswith("guard.") and not guard_ok and why:
            weak[nid] = why
        for kind in kinds:
            if guard_ok and type_matches(node.type, [guard_pattern(kind)]):
                unguarded[kind][nid] = set()  # this guard saw everything that reaches it
            else:
                own = mine if kind in required.get(nid, ()) else set()
                unguarded[kind][nid] = own.union(*(unguarded[kind].get(src, set()) for src in sources))
    return ContentFlow(generators, generated, unguarded, weak)


def _checkable_types(registry: Any, kinds: list[str]) -> dict[str, set[str]]:
    """kind -> the content types its guards take (``any``: every guard's); ``*``: those of all guards."""
    found: dict[str, set[str]] = {"*": set()}
    for name, spec in getattr(registry, "specs", {}).items():
        if not name.startswith("guard."):
            continue
        types = {i.type for i in spec.inputs.values() if i.type in CONTENT_TYPES}
        found["*"] |= types
        for kind in kinds:
            if fnmatch.fnmatchcase(name, guard_pattern(kind)):
                found.setdefault(kind, set()).update(types)
    return found


def _required_kinds(spec: Any, kinds: list[str], checks: dict[str, set[str]]) -> set[str]:
    """The listed guard kinds a generator's content must pass: those whose guards can check what it
    gives (a text generator, the text guards; an image generator, the image guards). Content that a
    guard could check but no listed kind can must pass them all (the policy cannot be met: say so);
    content no guard can check (latents) needs none itself: what decodes it is a generator too."""
    gives = {o.type for o in spec.outputs.values()} if spec is not None else {"Any"}
    if "Any" in gives:
        return set(kinds)
    wanted = {kind for kind in kinds if gives & checks.get(kind, set())}
    if wanted or not gives & checks["*"]:
        return wanted
    return set(kinds)


def guard_pattern(kind: str) -> str:
    """The node types that count as a guard of ``kind`` (``any``: every guard)."""
    return "guard.*" if kind == "any" else (kind if "." in kind else f"guard.{kind}")


def guard_counts(node: Any, spec: Any, policy: Policy) -> tuple[bool, str]:
    """Whether a guard node counts as guarding what passes it: it runs, and its action (as set,
    after ``--set`` and sweeps; never a linked value, which nobody can check before the run) is one
    the policy accepts. (ok, why not)."""
    if not node.type.startswith("guard.") or getattr(node, "mode", "run") != "run":
        return False, ""
    if spec is None or "action" not in spec.params:
        return True, ""  # a guard that can only block
    if "action" in node.inputs:
        return False, "its action is linked, so it is not known before the run"
    value = node.params.get("action", spec.params["action"].default)
    values = value.get("sweep") if isinstance(value, dict) else [value]
    if not isinstance(values, list) or not values:
        return False, "its action is swept over values nobody can check before the run"
    refused = [v for v in values if v not in policy.actions]
    if refused:
        return False, f"its action is {refused[0]!r} (the policy accepts {', '.join(policy.actions)})"
    return True, ""
