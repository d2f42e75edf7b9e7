"""A policy file: reading it (one TOML file, or several merged into the strictest of each rule) and
finding the one in force. What the rules mean for a graph is checked in :mod:`nodeflow.check.policy`.

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

__all__ = ["POLICY_FILE", "Policy", "PolicyError", "active_policy", "load_policy", "merge_policies", "parse_policy",
           "policy_beside", "policy_fingerprint", "type_matches"]

POLICY_FILE = "policy.toml"
GENERATORS = (
    "llm.generate", "llm.prompt_writer", "diffusion.text_to_image", "diffusion.image_to_image",
    "diffusion.inpaint", "diffusion.sampler", "diffusion.*decode", "train.*sample*", "train.lm_generate", "train.vae_interpolate", "train.*generate*",
    "audio.text_to_*", "video.denoising_film", "video.latent_walk",
)  # fmt: skip
EXEMPT = ("evaluate.*", "train.evaluate*", "train.lm_evaluate")
GUARD_ACTIONS = ("block", "redact")  # what a guard must do to count; ``flag`` only reports

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
        home = os.path.join(settings.home, POLICY_FILE)  # a string: asked on every run's check
        if os.path.isfile(home):
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
        found = named
    else:
        if settings is None:
            from nodeflow.settings import Settings

            settings = Settings()
        # a plain string and os.stat: asked on every run, and Path objects cost more than the stat
        found = os.path.join(settings.home, POLICY_FILE)
    try:
        state = os.stat(found)
    except OSError:
        return None if not named else (found, -1, -1)  # a named file that is gone is refused by the check
    return found, state.st_mtime_ns, state.st_size


def type_matches(node_type: str, patterns: list[str]) -> bool:
    """Whether ``node_type`` matches one of a policy's lists of type patterns (``diffusion.*``)."""
    return any(fnmatch.fnmatchcase(node_type, p) for p in patterns)
