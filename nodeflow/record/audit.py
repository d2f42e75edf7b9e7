"""``nodeflow audit``: what the run history says about responsible generation.

For each run since a date: its status, the artifacts it made, the guards that fired and what they
did (blocked, redacted, blurred, flagged; guards that passed clean are counted), the policy in force
(recorded in the run's graph when validation checked one) and the models it loaded with their source
and licence (read from the model files, see :mod:`nodeflow.check.licences`).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

__all__ = ["audit", "format_audit", "parse_since"]

PAGE = 500


def parse_since(text: str | None) -> float | None:
    """``2026-11-30``, ``2026-11-30T12:00``, or a span back from now (``7d``, ``12h``, ``30m``)."""
    if not text:
        return None
    span = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text)
    if span:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[span.group(2)]
        return time.time() - timedelta(**{unit: int(span.group(1))}).total_seconds()
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: give a date like 2026-11-30, a time like 2026-11-30T12:00, or 7d / 12h") from None
    return when.timestamp()


def audit(history: Any, registry: Any, settings: Any, *, since: float | None = None) -> dict[str, Any]:
    """The audit of every run in ``history`` started at or after ``since`` (Unix time), oldest first."""
    from nodeflow.check.licences import model_uses
    from nodeflow.graph.model import parse_graph

    runs = []
    offset = 0
    while True:
        page = history.list_runs(limit=PAGE, offset=offset)
        fresh = [r for r in page if since is None or r["started"] >= since]
        runs += fresh
        if len(page) < PAGE or len(fresh) < len(page):
            break
        offset += PAGE
    entries = []
    for summary in reversed(runs):
        run = history.get_run(summary["id"]) or summary
        graph = run.get("graph") or {}
        nodes = graph.get("nodes") or {}
        entry: dict[str, Any] = {
            "id": run["id"],
            "started": datetime.fromtimestamp(run["started"]).isoformat(timespec="seconds"),
            "status": run["status"],
            "title": run.get("title", ""),
            "source": run.get("source", ""),
            "artifacts": [o["path"] for o in run.get("outputs", []) if "path" in o],
            "guards": _guards(nodes, run.get("nodes") or {}),
            "policy": (graph.get("meta") or {}).get("policy"),
            "models": [],
        }
        try:
            entry["models"] = [
                {k: v for k, v in use.to_json().items() if k in ("node", "type", "value", "source", "licence")}
                for use in model_uses(parse_graph(graph), registry, settings)
            ]
        except Exception:  # noqa: BLE001  (an old or damaged record: the rest of the audit still stands)
            entry["models"] = []
        entries.append(entry)
    return {"since": since, "runs": entries, "totals": _totals(entries)}


def _guards(nodes: dict[str, Any], happened: dict[str, Any]) -> list[dict[str, Any]]:
    """What each guard node of a run did: blocked, redacted, blurred, flagged, clean or not run."""
    found = []
    for node_id, node in sorted(nodes.items()):
        if not str(node.get("type", "")).startswith("guard."):
            continue
        # a sweep records each item as NODE[i]
        items = sorted(k for k in happened if k == node_id or (k.startswith(f"{node_id}[") and k.endswith("]")))
        for key in items or [node_id]:
            found.append({"node": key, "type": node["type"], **_what_it_did(happened.get(key))})
    return found


def _what_it_did(record: dict[str, Any] | None) -> dict[str, str]:
    if record is None:
        return {"did": "not run", "detail": ""}
    if record.get("status") == "blocked":
        return {"did": "blocked", "detail": record.get("reason", "")}
    if record.get("status") == "error":
        message = record.get("message", "")
        if message.startswith("Blocked"):
            return {"did": "blocked", "detail": message.removeprefix("Blocked: ")}
        return {"did": "failed", "detail": message}
    if record.get("status") == "skipped":
        return {"did": "not run", "detail": record.get("reason", "")}
    report = str((record.get("outputs") or {}).get("report", ""))
    did, _, detail = report.partition(": ")
    if record.get("status") == "cached":
        detail = (detail + " (cached)").strip()
    return {"did": did or "passed", "detail": detail}


def _totals(entries: list[dict[str, Any]]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    actions: dict[str, int] = {}
    models: dict[str, dict[str, Any]] = {}
    policies: dict[str, dict[str, Any]] = {}
    for entry in entries:
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
        for guard in entry["guards"]:
            actions[guard["did"]] = actions.get(guard["did"], 0) + 1
        for model in entry["models"]:
            key = f"{model['type']} {model['value']}"
            seen = models.setdefault(key, {**model, "runs": 0})
            seen["runs"] += 1
        if entry["policy"]:
            policy = entry["policy"]
            seen = policies.setdefault(f"{policy.get('path')} {policy.get('sha256')}", {**policy, "runs": 0})
            seen["runs"] += 1
    return {
        "runs": len(entries),
        "status": statuses,
        "artifacts": sum(len(e["artifacts"]) for e in entries),
        "guard_actions": actions,
        "models": list(models.values()),
        "policies": list(policies.values()),
    }


def format_audit(report: dict[str, Any]) -> str:
    """The audit as text for a terminal."""
    totals = report["totals"]
    since = "" if report["since"] is None else f" since {datetime.fromtimestamp(report['since']).isoformat(timespec='minutes')}"
    status = ", ".join(f"{n} {s}" for s, n in sorted(totals["status"].items()))
    lines = [(f"{totals['runs']} run{'s' if totals['runs'] != 1 else ''}{since} ({status or 'none'}), "
             f"{totals['artifacts']} artifact{'s' if totals['artifacts'] != 1 else ''}")]
    fired = [(e, g) for e in report["runs"] for g in e["guards"] if g["did"] not in ("clean", "passed", "not run")]
    acted = ", ".join(f"{n} {did}" for did, n in sorted(totals["guard_actions"].items()))
    lines.append(f"\nguards: {acted or 'none in these runs'}")
    for entry, guard in fired:
        lines.append(f"  {entry['started']}  run {entry['id'][:8]}  {guard['node']} ({guard['type']}): {guard['did']} {guard['detail']}".rstrip())
    lines.append("\npolicy in force:")
    for policy in totals["policies"]:
        rules = "; ".join(f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in policy.items()
                          if k not in ("path", "sha256", "runs"))
        lines.append(f"  {policy['path']} (sha256 {policy['sha256']}, {policy['runs']} runs): {rules}")
    unpoliced = totals["runs"] - sum(p["runs"] for p in totals["policies"])
    if unpoliced:
        lines.append(f"  none for {unpoliced} run{'s' if unpoliced != 1 else ''}")
    lines.append("\nmodels:")
    for model in totals["models"]:
        lines.append(f"  {model['value']} ({model['type']}): {model['source']}, licence {model['licence'] or 'not stated'}, "
                     f"{model['runs']} run{'s' if model['runs'] != 1 else ''}")
    if not totals["models"]:
        lines.append("  none loaded")
    lines.append("\nartifacts:")
    for entry in report["runs"]:
        for path in entry["artifacts"]:
            lines.append(f"  {entry['started']}  run {entry['id'][:8]}  {path}")
    return "\n".join(lines)
