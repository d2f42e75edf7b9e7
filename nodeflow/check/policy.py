"""The policy a graph must obey before anything runs: guards, credentials, models, node types.

A policy is a TOML file: ``policy.toml`` in the data folder applies to every run there; ``--policy
FILE`` on ``nodeflow run`` / ``validate`` (or ``NODEFLOW_POLICY``) names another; a server attaches one
to a graph with :func:`load_policy` and passes it to validation. Every rule is optional::

    [outputs]
    guards = ["prompt", "nudity"]    # guard kinds every output of generated content passes first
    credentials = true               # output nodes attach content credentials (C2PA)
    watermark = true                 # ... and a watermark (true: any method; or a list of methods)
    generators = ["llm.generate", "diffusion.*"]   # node types that make generated content (besides
                                     # every node that runs a generative model: see is_generator)
    exempt = ["evaluate.*"]          # measurements: their numbers hold no generated content
    actions = ["block", "redact"]    # what a guard must do to count (the default; "flag" only reports)

    [models]
    sources = ["bundled", "local", "hub:HuggingFaceTB/*"]   # where models may come from
    licences = ["apache-2.0", "mit"]                        # or which licences they may carry

    [nodes]
    deny = ["code.*"]                # node types that may not appear

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
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodeflow.problems import Problem

__all__ = ["POLICY_FILE", "Policy", "PolicyError", "ContentFlow", "active_policy", "content_flow", "is_generator", "load_policy", "merge_policies", "parse_policy", "policy_beside", "problems_for"]

POLICY_FILE = "policy.toml"
GENERATORS = (
    "llm.generate", "llm.prompt_writer", "diffusion.text_to_image", "diffusion.image_to_image",
    "diffusion.inpaint", "diffusion.sampler", "diffusion.*decode", "train.*sample*", "train.lm_generate", "train.vae_interpolate", "train.*generate*",
    "audio.text_to_*", "video.denoising_film", "video.latent_walk",
)  # fmt: skip
EXEMPT = ("evaluate.*", "train.evaluate*", "train.lm_evaluate")
GUARD_ACTIONS = ("block", "redact")  # what a guard must do to count; ``flag`` only reports
WATERMARKS_OFF = ("none", "", None, False)

# section -> key -> (python type, element type for lists)
_SCHEMA: dict[str, dict[str, tuple[Any, ...]]] = {
    "outputs": {
        "guards": (list, str), "credentials": (bool,), "watermark": (bool, list),
        "generators": (list, str), "exempt": (list, str), "actions": (list, str),
    },
    "models": {"sources": (list, str), "licences": (list, str), "licenses": (list, str)},
    "nodes": {"deny": (list, str)},
}  # fmt: skip


class PolicyError(ValueError):
    """A policy file that cannot be read; the message names the file and the line."""


@dataclass
class Policy:
    guards: list[str] = field(default_factory=list)
    credentials: bool = False
    watermark: bool | list[str] = False
    generators: list[str] = field(default_factory=lambda: list(GENERATORS))
    exempt: list[str] = field(default_factory=lambda: list(EXEMPT))
    actions: list[str] = field(default_factory=lambda: list(GUARD_ACTIONS))
    sources: list[str] = field(default_factory=list)
    licences: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    path: str = ""  # where it came from, for messages and the audit
    text: str = ""

    def summary(self) -> dict[str, Any]:
        """The rules in force, as the audit and the run record show them."""
        digest = hashlib.sha256(self.text.encode()).hexdigest()[:16]
        rules = {
            "guards": self.guards, "credentials": self.credentials, "watermark": self.watermark,
            "sources": self.sources, "licences": self.licences, "deny": self.deny,
        }  # fmt: skip
        return {"path": self.path, "sha256": digest, **{k: v for k, v in rules.items() if v}}


def parse_policy(text: str, name: str = "policy") -> Policy:
    """A policy from TOML text; a malformed file raises PolicyError naming the line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{name}: {_with_line(str(exc), text)}") from None
    policy = Policy(path=name, text=text)
    for section, table in data.items():
        keys = _SCHEMA.get(section)
        if keys is None or not isinstance(table, dict):
            known = ", ".join(f"[{s}]" for s in _SCHEMA)
            raise PolicyError(f"{name}: line {_line_of(text, section)}: unknown section {section!r} (known: {known})")
        for key, value in table.items():
            where = f"{name}: line {_line_of(text, key, section)}"
            if key not in keys:
                raise PolicyError(f"{where}: unknown key {section}.{key} (known: {', '.join(keys)})")
            kinds = keys[key]
            if not isinstance(value, tuple(k for k in kinds if k in (list, bool))) or (
                isinstance(value, list) and not all(isinstance(v, str) for v in value)
            ):
                want = " or ".join("a list of strings" if k is list else "true or false" for k in kinds if k is not str)
                raise PolicyError(f"{where}: {section}.{key} must be {want}")
            target = "licences" if key == "licenses" else key  # either spelling
            if target == "licences" and isinstance(value, list):  # checked above: a list of strings
                value = [_norm(v) for v in value]
            setattr(policy, target, value)
    return policy


def _norm(text: str) -> str:
    return text.strip().lower()


def _with_line(message: str, text: str) -> str:
    """tomllib says '... (at line 3, column 7)'; put the line first, as every message here does."""
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not found:
        last = max(1, len(text.rstrip("\n").splitlines()))
        return f"line {last}: {message.replace('(at end of document)', '(the file ends here)').strip()}"
    return f"line {found.group(1)}, column {found.group(2)}: {message[: found.start()].strip()}"


def _line_of(text: str, key: str, section: str | None = None) -> int:
    in_section = section is None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = section is None or stripped.strip("[] ") == section
            if section is None and stripped.strip("[] ") == key:
                return number
            continue
        if in_section and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return number
    return 1


def load_policy(path: Path | str) -> Policy:
    """Read a policy file; PolicyError (naming the file and line) when it is missing or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc}") from None
    return parse_policy(text, str(path))


def policy_beside(graph_file: Path | str) -> Path | None:
    """The policy attached to a graph file: ``NAME.policy.toml`` beside ``NAME.json`` (what a server
    passes to validation for a graph it serves), or None."""
    graph_file = Path(graph_file)
    attached = graph_file.with_name(f"{graph_file.stem}.policy.toml")
    return attached if attached.is_file() else None


def active_policy(settings: Any = None, policy: Policy | Path | str | None = None) -> Policy | None:
    """The policy in force: the one the data folder holds (its ``policy.toml``, or the file
    ``NODEFLOW_POLICY`` names: ``--policy`` sets it), merged with ``policy`` when one is given (a
    Policy, a file, or a folder whose ``*.policy.toml`` files all apply); None when there is none.
    A given policy adds to the data folder's, never replaces it: a graph's own policy cannot loosen
    the machine's."""
    found: list[Policy] = []
    named = os.environ.get("NODEFLOW_POLICY") or None
    if named is not None:
        found.append(load_policy(named))
    else:
        if settings is None:
            from nodeflow.settings import Settings

            settings = Settings()
        home = Path(settings.home) / POLICY_FILE
        if home.is_file():
            found.append(load_policy(home))
    if isinstance(policy, Policy):
        found.append(policy)
    elif policy is not None and Path(policy).is_dir():
        found += [load_policy(p) for p in sorted(Path(policy).glob("*.policy.toml"))]
    elif policy is not None:
        found.append(load_policy(policy))
    unique: list[Policy] = []
    for one in found:  # the same file named twice counts once
        if not any(one.path == u.path and one.text == u.text for u in unique):
            unique.append(one)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else merge_policies(unique)


def merge_policies(policies: list[Policy]) -> Policy:
    """One policy holding every rule of ``policies``, the strictest of each: every guard, credentials
    or a watermark when any asks, the generators of all, only the exemptions and guard actions all
    accept, the models every one allows."""

    def union(lists: list[list[str]]) -> list[str]:
        return list(dict.fromkeys(v for one in lists for v in one))

    def common(lists: list[list[str]]) -> list[str]:
        return [v for v in lists[0] if all(v in other for other in lists[1:])]

    def common_of_set(lists: list[list[str]]) -> list[str]:
        given = [one for one in lists if one]
        if not given:
            return []
        return common(given) or ["(nothing every policy allows)"]  # empty would mean "anything"

    marks = [p.watermark for p in policies if p.watermark]
    listed = [m for m in marks if isinstance(m, list)]
    return Policy(
        guards=union([p.guards for p in policies]),
        credentials=any(p.credentials for p in policies),
        watermark=(common(listed) or ["none-allowed"]) if listed else bool(marks),
        generators=union([p.generators for p in policies]),
        exempt=common([p.exempt for p in policies]),
        actions=common([p.actions for p in policies]),
        sources=common_of_set([p.sources for p in policies]),
        licences=common_of_set([p.licences for p in policies]),
        deny=union([p.deny for p in policies]),
        path=" + ".join(p.path for p in policies),
        text="\n".join(p.text for p in policies),
    )


def policy_fingerprint(settings: Any = None) -> tuple[str, int, int] | None:
    """Which policy file is in force and its state (path, mtime, size), for caches of checked plans:
    a file added, edited or removed while a server runs changes it. None when no file applies."""
    named = os.environ.get("NODEFLOW_POLICY")
    if named:
        found = Path(named)
    else:
        if settings is None:
            from nodeflow.settings import Settings

            settings = Settings()
        found = Path(settings.home) / POLICY_FILE
    try:
        state = found.stat()
    except OSError:
        return None if not named else (str(found), -1, -1)  # a named file that is gone is refused by the check
    return str(found), state.st_mtime_ns, state.st_size


# --- checking a graph ------------------------------------------------------------------------------


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
        if _matches(node.type, policy.deny):
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


# --- where generated content flows -----------------------------------------------------------------

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
    if _matches(node.type, policy.generators):
        return True
    if spec is None:
        return False
    declared = getattr(spec, "generates", None)
    if declared is not None:
        return bool(declared)
    takes_model = any(i.type in GENERATIVE_MODEL_TYPES for i in spec.inputs.values())
    gives_content = any(o.type in CONTENT_TYPES - {"File", "JSON"} for o in spec.outputs.values())
    return takes_model and gives_content and not _matches(node.type, policy.exempt)


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
        measurement = spec is not None and _matches(node.type, policy.exempt) and not any(
            o.type in CONTENT_TYPES - {"JSON"} for o in spec.outputs.values())
        if measurement:  # scores (numbers, JSON of numbers): no content; a file it writes would be
            generated[nid] = set()
            for kind in kinds:
                unguarded[kind][nid] = set()
            continue
        mine = {nid} if nid in generators else set()
        generated[nid] = mine.union(*(generated.get(src, set()) for src in sources))
        guard_ok, why = _guard_counts(node, spec, policy)
        if node.type.startswith("guard.") and not guard_ok and why:
            weak[nid] = why
        for kind in kinds:
            if guard_ok and _matches(node.type, [_guard_pattern(kind)]):
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
            if fnmatch.fnmatchcase(name, _guard_pattern(kind)):
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


def _guard_pattern(kind: str) -> str:
    return "guard.*" if kind == "any" else (kind if "." in kind else f"guard.{kind}")


def _guard_counts(node: Any, spec: Any, policy: Policy) -> tuple[bool, str]:
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


def _unguarded_message(where: str, kind: str, generators: set[str], flow: ContentFlow) -> str:
    wanted = _guard_pattern(kind)
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


def _matches(node_type: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(node_type, p) for p in patterns)


def _default_settings() -> Any:
    from nodeflow.settings import Settings

    return Settings()
