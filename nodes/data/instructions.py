"""Instruction examples for the showcase: short ideas that ask for a number, and the drawing
instruction an LLM should write for each (naming the number in words).

Ideas come from templates (a birthday card, a house number, a countdown, ...) filled with a number
as a word or in digits. The templates are split in two fixed halves: ``train`` examples use one half,
``held_out`` the other, so a model fine-tuned on ``train`` is measured on ideas it never saw.
"""

from __future__ import annotations

import random

from nodeflow import Context, Param, node
from nodes.data.bundled import NUMBER_WORDS
from nodes.data.examples import ExampleSet, TextExamples

__all__ = ["IDEAS", "digit_ideas", "digit_instruction"]

IDEAS = (
    "a birthday card for someone turning {n}",
    "a house number {n} on a blue door",
    "the number {n} painted on a race car",
    "a countdown that stops at {n}",
    "a football shirt with the number {n}",
    "a clock face showing {n} o'clock",
    "a lottery ball with {n} on it",
    "a bus for route {n} at night",
    "a cake with {n} candles",
    "a dice showing {n}",
    "{n} balloons tied to a fence",
    "a platform sign for platform {n}",
    "a neon sign shaped like the number {n}",
    "a chalkboard with a big {n} on it",
    "a street sign that says {n}",
    "a jersey number {n} on a basketball player",
    "a price tag of {n} dollars",
    "a hotel room door marked {n}",
    "a page numbered {n} in an old book",
    "an elevator button for floor {n}",
    "a child holding up {n} fingers",
    "a sticker with the digit {n}",
    "a rocket launch at T minus {n}",
    "a poster for the {n} o'clock show",
    "a locker with the number {n}",
    "a gift for a {n} year old",
    "a parking space numbered {n}",
    "a mailbox labelled {n}",
    "a billiard ball numbered {n}",
    "a scoreboard that reads {n}",
    "a road marker for mile {n}",
    "a tattoo of the number {n}",
    "a calendar page for day {n}",
    "a wooden block with {n} carved in it",
    "a flag with a big {n} in the middle",
    "a chocolate bar stamped with {n}",
)
RESPONSES = (
    "Draw the number {word}, large and clear, as a handwritten digit.",
    "Draw the number {word} in bold handwriting, centred on the page.",
    "Draw the number {word} as one big handwritten numeral.",
)


def digit_ideas(split: str, count: int, seed: int) -> list[tuple[str, int]]:
    """``count`` (idea, number) pairs from the ``train`` or ``held_out`` half of the templates."""
    templates = IDEAS[0::2] if split == "train" else IDEAS[1::2]
    rng = random.Random(seed)
    pairs = []
    for index in range(count):
        number = index % 10
        template = rng.choice(templates)
        written = NUMBER_WORDS[number] if rng.random() < 0.5 else str(number)
        pairs.append((template.format(n=written), number))
    rng.shuffle(pairs)
    return pairs


def digit_instruction(number: int, variant: int = 0) -> str:
    return RESPONSES[variant % len(RESPONSES)].format(word=NUMBER_WORDS[number])


@node("data.digit_instructions", category="Data / Text", outputs=("examples",))
def digit_instructions(
    ctx: Context,
    *,
    split: str = Param("train", choices=("train", "held_out"), description="which half of the idea templates"),
    count: int = Param(200, min=1, max=100_000),
    seed: int = Param(0, kind="seed"),
) -> TextExamples:
    """Ideas asking for a number 0-9 ("a cake with 7 candles") with the instruction to write for each
    ("Draw the number seven, ..."): examples to fine-tune the showcase's prompt writer."""
    rows = [
        {"prompt": idea, "response": digit_instruction(number, i)}
        for i, (idea, number) in enumerate(digit_ideas(split, count, seed))
    ]
    data = ExampleSet(rows, f"digit instructions ({split})")
    if ctx is not None:
        ctx.log(f"{len(rows)} examples; first: {rows[0]['prompt']!r} -> {rows[0]['response']!r}")
    return data
