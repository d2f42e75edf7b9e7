"""Evaluate pack: measures with their numbers on the node and in the run record. Train on synthetic,
test on real; bias amplification (class distribution of generated images against the training
data's); text metrics (distinct-n, repetition, prompt adherence with MiniLM); a report node that
writes a JSON and an image table for a sweep of items."""

from . import bias, report, synthetic, text  # noqa: F401  (importing registers the nodes)
