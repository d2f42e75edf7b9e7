"""The policy a graph must obey before anything runs: guards, credentials, models, node types.

A policy is a TOML file: ``policy.toml`` in the data folder applies to every run there; ``--policy
FILE`` on ``nodeflow run`` / ``validate`` (or ``NODEFLOW_POLICY``) names another; a server attaches one
to a graph with :func:`load_policy` and passes it to validation. Every rule is optional::

    [outputs]
    guards = ["prompt", "nudity"]    # guard kinds every output of generated content passes first
    credentials = true               # output nodes attach content credentials (C2PA)
    watermark = true                 # ... and a watermark (true: any method; or a list of methods)
    generators = ["llm.generate", "diffusion.*"]   # which node types make generated content
    exempt = ["evaluate.*"]          # output nodes the output rules skip (measurements, not content)

    [models]
    sources = ["bundled", "local", "hub:HuggingFaceTB/*"]   # where models may come from
    licences = ["apache-2.0", "mit"]                        # or which licences they may carry

    [nodes]
    deny = ["code.*"]                # node types that may not appear

A guard kind is the guard's type without ``guard.`` (``prompt`` is ``guard.prompt``) or ``any``. A
guard counts for an output when it runs (not bypassed or muted) downstream of a generator and
upstream of the output. A model is allowed when its source or its licence is listed (see
:mod:`nodeflow.licences`). Problems are reported on the nodes like every other validation problem.
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

from .problems import Problem

__all__ = ["POLICY_FILE", "Policy", "PolicyError", "active_policy", "load_policy", "parse_policy", "policy_beside", "problems_for"]

POLICY_FILE = "policy.toml"
GENERATORS = (
    "llm.generate", "llm.prompt_writer", "diffusion.text_to_image", "diffusion.image_to_image",
    "diffusion.inpaint", "train.*sample*", "train.lm_generate", "train.vae_interpolate", "train.*generate*",
    "audio.text_to_*", "video.denoising_film", "video.latent_walk",
)  # fmt: skip
EXEMPT = ("evaluate.*", "train.evaluate*", "train.lm_evaluate")
WATERMARKS_OFF = ("none", "", None, False)

# section -> key -> (python type, element type for lists)
_SCHEMA: dict[str, dict[str, tuple[type, ...]]] = {
    "outputs": {
        "guards": (list, str), "credentials": (bool,), "watermark": (bool, list),
        "generators": (list, str), "exempt": (list, str),
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
            if target == "licences" and isinstance(value, list):  # always a list: checked above
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
    """The policy given (a Policy or a file), else the file ``NODEFLOW_POLICY`` names (``--policy``
    sets it), else the data folder's ``policy.toml``, else None."""
    if isinstance(policy, Policy):
        return policy
    policy = policy or os.environ.get("NODEFLOW_POLICY") or None
    if policy is not None:
        return load_policy(policy)
    if settings is None:
        from .settings import Settings

        settings = Settings()
    found = Path(settings.home) / POLICY_FILE
    return load_policy(found) if found.is_file() else None


def policy_fingerprint(settings: Any = None) -> tuple[str, int, int] | None:
    """Which policy file is in force and its state (path, mtime, size), for caches of checked plans:
    a file added, edited or removed while a server runs changes it. None when no file applies."""
    named = os.environ.get("NODEFLOW_POLICY")
    if named:
        found = Path(named)
    else:
        if settings is None:
            from .settings import Settings

            settings = Settings()
        found = Path(settings.home) / POLICY_FILE
    try:
        state = found.stat()
    except OSError:
        return None if not named else (str(found), -1, -1)  # a named file that is gone is refused by the check
    return str(found), state.st_mtime_ns, state.st_size


# --- checking a graph ------------------------------------------------------------------------------


def problems_for(graph: Any, registry: Any, settings: Any = None, policy: Any = None) -> list[Problem]:
    """Every way ``graph`` breaks the policy in force, each on the node that breaks it.

    ``policy`` is a :class:`Policy`, a policy file path, or None for the data folder's policy.
    """
    try:
        policy = active_policy(settings, policy)
    except PolicyError as exc:
        return [Problem.graph(f"policy: {exc}")]
    if policy is None:
        return []
    # the run record (and every artifact's provenance, which holds the graph) says which policy held
    graph.meta = {**graph.meta, "policy": policy.summary()}
    problems: list[Problem] = []
    nodes = graph.nodes
    live = {nid: n for nid, n in nodes.items() if getattr(n, "mode", "run") != "mute"}

    # 1. node types that may not appear
    for node in live.values():
        if _matches(node.type, policy.deny):
            problems.append(Problem(node.id, node.type, None, f"policy ({policy.path}): node type {node.type} is not allowed"))

    # 2. outputs of generated content: guards first, credentials, watermark
    upstream = _upstream_map(live)
    for node in live.values():
        spec = registry.get(node.type)
        if spec is None or not spec.output or _matches(node.type, policy.exempt):
            continue
        ancestors = _closure(node.id, upstream)
        generators = {a for a in ancestors if _matches(live[a].type, policy.generators)}
        if not generators:
            continue
        problems += _output_problems(node, spec, ancestors, generators, live, upstream, policy)

    # 3. models: listed sources or listed licences
    if policy.sources or policy.licences:
        from .licences import model_uses

        settings = settings if settings is not None else _default_settings()
        for use in model_uses(graph, registry, settings):
            if use.node in live and not _model_allowed(use, policy):
                problems.append(Problem(use.node, use.type, use.param, _model_message(use, policy)))
    return problems


def _output_problems(node, spec, ancestors, generators, live, upstream, policy) -> list[Problem]:
    problems = []
    where = f"policy ({policy.path})"
    for kind in policy.guards:
        wanted = "guard.*" if kind == "any" else (kind if "." in kind else f"guard.{kind}")
        passed = [
            a for a in ancestors
            if _matches(live[a].type, [wanted]) and getattr(live[a], "mode", "run") == "run"
            and generators & _closure(a, upstream)
        ]  # fmt: skip
        if not passed:
            problems.append(Problem(node.id, node.type, None,
                                    f"{where}: generated content reaches this output without passing a {wanted} guard "
                                    f"after {', '.join(sorted(generators))}; add one in between"))
    if policy.credentials and "credentials" in spec.params:  # tolerated until output nodes have the param
        value = node.params.get("credentials", spec.params["credentials"].default)
        if "credentials" in node.inputs or value is not True:
            problems.append(Problem(node.id, node.type, "credentials", f"{where}: outputs must carry content credentials; turn credentials on"))
    if policy.watermark and "watermark" in spec.params:
        value = node.params.get("watermark", spec.params["watermark"].default)
        allowed = policy.watermark if isinstance(policy.watermark, list) else None
        if value in WATERMARKS_OFF or (allowed and value not in allowed):
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


def _upstream_map(nodes: dict[str, Any]) -> dict[str, set[str]]:
    return {nid: {src for src, _ in n.inputs.values() if src in nodes} for nid, n in nodes.items()}


def _closure(node_id: str, upstream: dict[str, set[str]]) -> set[str]:
    """Every node ``node_id`` depends on (not itself)."""
    seen: set[str] = set()
    stack = list(upstream.get(node_id, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(upstream.get(current, ()))
    return seen


def _default_settings() -> Any:
    from .settings import Settings

    return Settings()
