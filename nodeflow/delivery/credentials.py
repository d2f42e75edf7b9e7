"""C2PA content credentials: a signed manifest saying the content was made by a generative model.

The manifest (signed with the identity of signing.py, by ``c2pa-python``) holds:

- a ``c2pa.created`` action with the IPTC digital source type of what made the content (the record's
  ``source``: ``trainedAlgorithmicMedia`` when a generative model did, ``algorithmicMedia`` when no
  model was involved, the ``composite...`` types when files read from disk are part of it) and
  nodeflow as the software agent;
- ``org.nodeflow.generation``: the models and input files used (names and content hashes, from the
  provenance record), the guard nodes the content passed, and the graph's title.

Verifying gives a status: ``valid`` (signature and content hashes check out; ``trusted`` says whether
the signer is one this machine trusts), ``tampered`` (the content or the manifest changed after
signing), ``missing`` (no manifest) or ``unreadable``.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from .signing import signing_identity, trust_anchors

__all__ = ["TRAINED_ALGORITHMIC_MEDIA", "manifest_for", "sign_file", "verify_bytes", "verify_file"]

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC + "trainedAlgorithmicMedia"
ASSERTION = "org.nodeflow.generation"
_CONTEXTS: dict[bytes, Any] = {}
# failure codes that mean the signer is unknown here, not that anything changed
_TRUST_ONLY = ("signingCredential.untrusted",)


def manifest_for(record: dict[str, Any]) -> dict[str, Any]:
    """The C2PA manifest definition for an artifact with provenance ``record``."""
    from nodeflow.version import __version__

    artifact = record.get("artifact") or {}
    graph = record.get("graph") or {}
    return {
        "claim_generator_info": [{"name": "nodeflow", "version": __version__}],
        "title": str(artifact.get("name") or "artifact"),
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [{
                        "action": "c2pa.created",
                        "digitalSourceType": IPTC + str(record.get("source") or "trainedAlgorithmicMedia"),
                        "softwareAgent": {"name": "nodeflow", "version": __version__},
                    }]
                },
            },
            {
                "label": ASSERTION,
                "data": {
                    "graph_title": (graph.get("meta") or {}).get("title", ""),
                    "made_by": {k: artifact.get(k) for k in ("node", "type")},
                    "models": sorted((record.get("models") or {}).values(), key=lambda m: (m["node"], m["name"])),
                    "inputs": [{"param": k, **v} for k, v in sorted((record.get("inputs") or {}).items())],
                    "guards": list(record.get("guards") or []),
                    "redacted": list(record.get("redacted") or []),
                    **({"watermark": record["watermark"]} if record.get("watermark") else {}),
                    "seeds": dict(record.get("seeds") or {}),
                },
            },
        ],
    }


def _context(anchors: bytes) -> Any:
    """A c2pa Context: no thumbnail (it costs most of the signing time), the given trust anchors."""
    import c2pa

    context = _CONTEXTS.get(anchors)
    if context is None:
        settings: dict[str, Any] = {"builder": {"thumbnail": {"enabled": False}}}
        if anchors:
            settings["trust"] = {"trust_anchors": anchors.decode()}
        context = _CONTEXTS[anchors] = c2pa.Context.from_dict(settings)
    return context


def sign_file(path: Path, mime: str, record: dict[str, Any], settings: Any) -> None:
    """Replace the file at ``path`` with a copy carrying a signed manifest for ``record``."""
    try:
        import c2pa
    except ImportError:
        raise ValueError("content credentials need c2pa-python: pip install 'nodeflow[guard]'") from None

    identity = signing_identity(settings.home)
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(identity.alg, identity.chain, identity.key, None))
    path = Path(path)
    fd, signed = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".signed{path.suffix}", dir=path.parent)
    try:
        with os.fdopen(fd, "w+b") as target, open(path, "rb") as source:
            c2pa.Builder(manifest_for(record), context=_context(identity.anchors)).sign(signer, mime, source, target)
        os.chmod(signed, os.stat(path).st_mode & 0o777)
        os.replace(signed, path)
    except c2pa.C2paError as exc:
        raise ValueError(f"signing the content credentials failed: {exc}") from None
    finally:
        if os.path.exists(signed):
            os.unlink(signed)
        signer.close()


def verify_file(path: Path, mime: str, home: Path | None = None) -> dict[str, Any]:
    with open(path, "rb") as stream:
        return _verify(stream, mime, home)


def verify_bytes(data: bytes, mime: str, home: Path | None = None) -> dict[str, Any]:
    return _verify(io.BytesIO(data), mime, home)


def _verify(stream: Any, mime: str, home: Path | None) -> dict[str, Any]:
    try:
        import c2pa
    except ImportError:
        return {"status": "unknown", "summary": "c2pa-python is not installed; credentials not checked"}
    if home is None:
        from nodeflow.settings import Settings

        home = Settings().home
    try:  # a crafted file can fail anywhere in the reader: every failure is "unreadable"
        reader = c2pa.Reader.try_create(mime, stream, context=_context(trust_anchors(home)))
        if reader is None:
            return {"status": "missing", "summary": "missing: no C2PA manifest"}
        with reader:
            state = reader.get_validation_state() or ""
            results = (reader.get_validation_results() or {}).get("activeManifest") or {}
            manifest = reader.get_active_manifest() or {}
    except (c2pa.C2paError, KeyError, ValueError, TypeError) as exc:
        return {"status": "unreadable", "summary": f"unreadable: the C2PA manifest cannot be read ({exc})"}
    failures = [f.get("code", "") for f in results.get("failure") or []]
    changed = [code for code in failures if code not in _TRUST_ONLY]
    trusted = state.lower() == "trusted"
    info = _describe(manifest)
    if changed:
        return {**info, "status": "tampered", "failures": changed,
                "summary": "TAMPERED: the content or its manifest changed after signing (" + ", ".join(changed) + ")"}
    signer = (manifest.get("signature_info") or {}).get("common_name", "an unknown signer")
    who = f"signed by {signer}" + ("" if trusted else " (a signer this machine does not trust)")
    return {**info, "status": "valid", "trusted": trusted, "summary": f"valid, {who}; {info['what']}"}


def _describe(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the active manifest says: the source type and nodeflow's assertion."""
    found: dict[str, Any] = {"digital_source_type": None, "generation": None}
    for assertion in manifest.get("assertions") or []:
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label.startswith("c2pa.actions"):
            for action in data.get("actions") or []:
                found["digital_source_type"] = action.get("digitalSourceType") or found["digital_source_type"]
        elif label == ASSERTION:
            found["generation"] = data
    generation = found["generation"] or {}
    source = str(found["digital_source_type"] or "no source type").rsplit("/", 1)[-1]
    models = ", ".join(m.get("name", "?") for m in generation.get("models") or []) or "none recorded"
    guards = ", ".join(_guard_line(g) for g in generation.get("guards") or [] if isinstance(g, dict)) or "none"
    found["what"] = f"{source}; models: {models}; guards passed: {guards}"
    return found


def _guard_line(guard: dict[str, Any]) -> str:
    """``guard.personal_data`` or, when it found something and let it through, ``guard.personal_data
    (flagged: email)`` / ``(redacted: card)``."""
    outcome = guard.get("outcome")
    counts = guard.get("counts")
    found = (", ".join(f"{kind} x{n}" for kind, n in counts.items()) if isinstance(counts, dict)
             else ", ".join(str(kind) for kind in guard.get("found") or []))
    done = {"flag": "flagged", "redact": "redacted", "blur": "blurred"}.get(str(outcome))
    return f"{guard.get('type', '?')} ({done}: {found})" if done and found else str(guard.get("type", "?"))
