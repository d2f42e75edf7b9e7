"""Checks before a run: validation, the policy, licences."""
