"""The policy a graph must obey before anything runs: guards, credentials, models, node types.
The file is read in :mod:`nodeflow.check.policy_file`, generated content followed in
:mod:`nodeflow.check.content_flow`; here a graph is checked against the rules.

The rules (one TOML file, or several merged into the strictest) are described in
:mod:`nodeflow.check.policy_file`.

A guard kind is the guard's type without ``guard.`` (``prompt`` is ``guard.prompt``) or ``any``.
Content is *generated* when any path from a generator reaches it (through every node, list and
subgraph); an output passes the rule when every such path goes through a running guard of each
listed kind whose action the policy accepts (``actions``: block or redact by default). An exempt
node (a measurement) stops the flow only when it gives no content (numbers, not text or images).
``--only`` may not ask for a node holding unguarded generated content, and events and previews
withhold such values (``Graph.withheld``). A model is allowed when its source or its licence is listed (see
:mod:`nodeflow.check.licences`). Problems are reported on the nodes like every other validation problem.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from nodeflow.problems import Problem

from .content_flow import ContentFlow, content_flow, guard_pattern, is_generator
from .policy_file import (
    POLICY_FILE,
    Policy,
    PolicyError,
    active_policy,
    load_policy,
    merge_policies,
    parse_policy,
    policy_beside,
    policy_fingerprint,
    type_matches,
)

__all__ = ["POLICY_FILE", "Policy", "PolicyError", "ContentFlow", "active_policy", "content_flow", "is_generator", "load_policy", "merge_policies", "parse_policy", "policy_beside", "policy_fingerprint", "problems_for"]

WATERMARKS_OFF = ("none", "", None, False)


def problems_for(graph: Any, registry: Any, settings: Any = None, policy: Any = None,
                 only: Any = None) -> list[Problem]:
    """Every way ``graph`` breaks the policy in force, each on the node that breaks it.

    ``policy`` is a :class:`Policy`, a policy file (or a folder of them) path, or None for the data
    folder's policy. ``only``: the nodes a run asks for (``--only``), which may not show generated
    content that has not passed the guards. The graph is checked as it will run: after ``--set``,
    sweeps, modes and subgraph expansion (:func:`nodeflow.check.validate.check_graph` calls this after them).
    """
    try:
        policy = active_policy(settings, policy)
    except PolicyError as exc:
        return [Problem.graph(f"policy: {exc}")]
    graph.withheld = frozenset()
    if policy is None:
        return []
    # the run record (and every artifact's provenance, which holds the graph) says which policy held
    graph.meta = {**graph.meta, "policy": policy.summary()}
    problems: list[Problem] = []
    nodes = graph.nodes
    live = {nid: n for nid, n in nodes.items() if getattr(n, "mode", "run") != "mute"}
    where = f"policy ({policy.path})"

    # 1. node types that may not appear
    for node in live.values():
        if type_matches(node.type, policy.deny):
            problems.append(Problem(node.id, node.type, None, f"{where}: node type {node.type} is not allowed"))

    # 2. outputs of generated content: every path from a generator passes the guards; credentials, watermark
    flow = content_flow(graph, live, registry, policy)
    for node in live.values():
        spec = registry.get(node.type)
        if spec is None or not spec.output or not flow.generated.get(node.id):
            continue
        for kind, raw in flow.unguarded.items():
            if raw.get(node.id):
                problems.append(Problem(node.id, node.type, None, _unguarded_message(where, kind, raw[node.id], flow)))
        problems += _delivery_problems(node, spec, policy, where)
    requested = [nid for nid in (only or []) if nid in live]
    for nid in requested:  # --only / "run to here": what it shows must have passed the guards too
        spec = registry.get(live[nid].type)
        if spec is not None and spec.output:
            continue  # checked above like every output
        for kind, raw in flow.unguarded.items():
            if raw.get(nid):
                problems.append(Problem(nid, live[nid].type, None,
                                        f"{where}: running only this node would show generated content from "
                                        f"{', '.join(sorted(raw[nid]))} that has not passed a {kind} guard; run the "
                                        f"graph to an output behind the guard instead"))
    # what events and previews may not show: values holding generated content no guard has seen
    graph.withheld = frozenset(n for raw in flow.unguarded.values() for n, gens in raw.items() if gens)

    # 3. models: listed sources or listed licences
    if policy.sources or policy.licences:
        from .licences import model_uses

        settings = settings if settings is not None else _default_settings()
        for use in model_uses(graph, registry, settings):
            if use.node in live and not _model_allowed(use, policy):
                problems.append(Problem(use.node, use.type, use.param, _model_message(use, policy)))
    return problems


def _unguarded_message(where: str, kind: str, generators: set[str], flow: ContentFlow) -> str:
    wanted = guard_pattern(kind)
    text = (f"{where}: generated content reaches this output without passing a {wanted} guard after "
            f"{', '.join(sorted(generators))} (on some path); add one in between")
    if flow.weak_guards:
        text += "; " + "; ".join(f"{g} does not count: {why}" for g, why in sorted(flow.weak_guards.items()))
    return text


def _delivery_problems(node: Any, spec: Any, policy: Policy, where: str) -> list[Problem]:
    problems = []
    if policy.credentials and "credentials" in spec.params:  # tolerated until output nodes have the param
        value = node.params.get("credentials", spec.params["credentials"].default)
        if "credentials" in node.inputs or value is not True:
            problems.append(Problem(node.id, node.type, "credentials", f"{where}: outputs must carry content credentials; turn credentials on"))
    if policy.watermark and "watermark" in spec.params:
        value = node.params.get("watermark", spec.params["watermark"].default)
        allowed = policy.watermark if isinstance(policy.watermark, list) else None
        if value in WATERMARKS_OFF or (allowed and value not in allowed) or isinstance(value, dict):
            want = f"one of {', '.join(allowed)}" if allowed else "any method but none"
            problems.append(Problem(node.id, node.type, "watermark", f"{where}: outputs must be watermarked ({want})"))
    return problems


def _model_allowed(use: Any, policy: Policy) -> bool:
    if policy.sources and any(_source_matches(use.source, pattern) for pattern in policy.sources):
        return True
    return bool(policy.licences) and use.licence is not None and use.licence in policy.licences


def _source_matches(source: str, pattern: str) -> bool:
    if pattern == "hub":
        return source.startswith("hub:")
    return fnmatch.fnmatchcase(source, pattern)


def _model_message(use: Any, policy: Policy) -> str:
    said = f"licence {use.licence}" if use.licence else "no licence in its files"
    allowed = []
    if policy.sources:
        allowed.append(f"sources {', '.join(policy.sources)}")
    if policy.licences:
        allowed.append(f"licences {', '.join(policy.licences)}")
    return f"policy ({policy.path}): model {use.value!r} ({use.source}, {said}) is not allowed; allowed: {'; '.join(allowed)}"


def _default_settings() -> Any:
    from nodeflow.settings import Settings

    return Settings()
