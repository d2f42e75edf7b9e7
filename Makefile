# The two commands of the README. Both set everything up first (idempotent, see scripts/setup.sh).
.PHONY: setup ui test lint bench

setup:
	bash scripts/setup.sh

ui: setup
	.venv/bin/nodeflow ui

# the checks every commit must pass: style and bugs (ruff), the engine's stages and the packs' boundary
# (import-linter, scripts/check_layers.py), types (mypy on the engine, tsc on the editor)
lint: setup
	.venv/bin/ruff check nodeflow nodes tests bench scripts
	.venv/bin/lint-imports --no-cache
	.venv/bin/python scripts/check_layers.py
	.venv/bin/mypy
	cd ui && npm run --silent typecheck

test: lint
	bash scripts/test.sh

bench: setup
	.venv/bin/python bench/executor.py
