"""Checks before a run: validation (with the --set and --sweep edits it applies first), sweep and
published-input problems, resolve checks, the policy, licences."""
