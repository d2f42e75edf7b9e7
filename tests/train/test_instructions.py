"""The showcase's instruction examples: every one names its number in words, and the held-out ideas
come from templates the training examples never use."""

from __future__ import annotations

from nodes.data.bundled import NUMBER_WORDS
from nodes.data.captions import find_number
from nodes.data.instructions import IDEAS, digit_ideas, digit_instructions


def test_examples_name_the_number_of_their_idea_in_words():
    data = digit_instructions(None, split="train", count=60, seed=3)
    assert len(data) == 60 and data.chat
    for row in data.rows:
        number = find_number(row["prompt"])
        assert number is not None and find_number(row["response"]) == number
        assert NUMBER_WORDS[number] in row["response"].split(", ")[0].split()


def test_held_out_ideas_use_other_templates():
    def template_of(idea: str) -> str:
        return next(t for t in IDEAS if t.split("{n}")[0] in idea and t.split("{n}")[1] in idea)

    train = {template_of(i) for i, _ in digit_ideas("train", 200, 0)}
    held = {template_of(i) for i, _ in digit_ideas("held_out", 200, 0)}
    assert train and held and not train & held
    assert sorted({n for _, n in digit_ideas("held_out", 30, 1)}) == list(range(10))
