"""What the editor's preview grid says under each item, from what the run's nodes returned: the judge's
numbers (not its probability lists), and kept or dropped with the stage or check and why (the browser test
in tests/browser/test_dataset_preview_grid.py sees a duplicate dropped in a real run)."""

from __future__ import annotations

from nodes.dataset.checks import verdict
from nodes.dataset.item_notes import decision_of, scores_text


def test_scores_show_the_judges_numbers_only():
    assert scores_text({"judge_score": 3.04217, "judge_score_probabilities": [0.2, 0.8]}) == "judge_score 3.04"
    assert scores_text({"clarity": 4, "passed": True, "note": "fine"}) == "clarity 4"
    assert scores_text(2.5) == "score 2.5"
    assert scores_text(None) == ""


def test_a_failed_check_names_the_check_and_why():
    rules = verdict(None, "json schema", True)
    failed = verdict(rules, "judge >= 3", False, "score 2.4 is under 3")
    assert decision_of(1, None, failed) == "dropped by check judge >= 3: score 2.4 is under 3"
    assert decision_of(0, None, verdict(rules, "judge >= 3", True)) == "kept"


def test_a_filter_result_without_duplicate_numbers_still_says_why():
    # a dedup result cached by an older nodeflow has no "duplicate_of": the stage's reason is shown
    older = {"keep": [True, False], "stages": [{"stage": "exact", "kept": 1, "dropped": 1,
                                                 "dropped_items": {"000001": "a copy of 000000"}}]}
    assert decision_of(1, older, None) == "dropped by exact: a copy of 000000"
    assert decision_of(0, older, None) == "kept"
    newer = {**older, "duplicate_of": [None, 0]}
    assert decision_of(1, newer, None) == "dropped: duplicate of item 1 (exact: a copy of 000000)"
