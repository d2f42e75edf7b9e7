"""Code pack: code as an output. Check Python syntax (ast), lint with ruff, measure size and
complexity, and save source files with provenance in a header comment. Nothing here runs the code."""

from . import checks, lint, save  # noqa: F401  (importing registers the nodes)
