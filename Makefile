# The two commands of the README. Both set everything up first (idempotent, see scripts/setup.sh).
.PHONY: setup ui test bench

setup:
	bash scripts/setup.sh

ui: setup
	.venv/bin/nodeflow ui

test: setup
	bash scripts/test.sh

bench: setup
	.venv/bin/python bench/executor.py
