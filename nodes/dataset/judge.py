"""An LLM as judge: a rubric template filled with the item, scored by the model's own probabilities.

Rather than parse a number out of generated text (which small models often fail to write), the judge
reads the model's next-token probabilities for the digits 1..scale right after "Score: " and reports
their expected value. Every model gives a score, the same model and item always give the same one,
and a confident model gives whole numbers.
"""

from __future__ import annotations

from typing import NamedTuple

from nodeflow import JSON, Context, Float, LanguageModel, Param, node

__all__ = ["judge", "score_text"]

DEFAULT_RUBRIC = (
    "You grade synthetic training data. Rubric: {criteria}\n\n"
    "Item:\n{item}\n\n"
    "Answer with one digit from 1 (fails the rubric) to {scale} (meets it fully)."
)


class Verdict(NamedTuple):
    score: Float
    verdict: JSON


def score_text(handle, prompt: str, scale: int) -> tuple[float, list[float]]:
    """The expected score and the probability of each of 1..scale after the prompt."""
    import torch

    loaded = handle.loaded()
    model, tokenizer = loaded.model, loaded.tokenizer
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                             tokenize=False)
    else:
        text = prompt + "\n"
    text += "Score: "
    digits = []
    for d in range(1, scale + 1):
        ids = tokenizer.encode(str(d), add_special_tokens=False)
        if not ids:
            raise ValueError(f"the model's tokenizer has no token for the digit {d}")
        digits.append(ids[0])
    encoded = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    encoded = {name: tensor.to(model.device) for name, tensor in encoded.items()}
    with torch.inference_mode():
        logits = model(**encoded).logits[0, -1].float()
    chosen = torch.softmax(logits[digits], dim=0)
    probabilities = [round(float(p), 6) for p in chosen]
    expected = float(sum((i + 1) * p for i, p in enumerate(chosen.tolist())))
    return round(expected, 4), probabilities


@node("dataset.judge", category="Dataset", title="LLM judge", holds="device")
def judge(
    text: str,
    model: LanguageModel,
    ctx: Context,
    *,
    criteria: str = Param("The text is a clear, correct and self-contained answer or description.",
                          kind="text", description="what a good item is"),
    rubric: str = Param(DEFAULT_RUBRIC, kind="text",
                        description="the prompt: {item} is the item's text, {criteria} and {scale} the params"),
    scale: int = Param(5, min=2, max=9, description="scores run from 1 to this"),
    column: str = Param("judge_score", description="the dataset column the score goes in (via verdict)"),
) -> Verdict:
    """Score an item against a rubric with a language model (link llm.load: the bundled SmolLM2 or any
    local model). ``score`` feeds a threshold (dataset.check_score); ``verdict`` holds the score as a
    column for dataset.write's ``scores``."""
    if "{item}" not in rubric:
        raise ValueError("rubric: the template must hold {item}, where the item's text goes")
    try:
        prompt = rubric.format(item=text, criteria=criteria, scale=scale)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"rubric: cannot fill the template ({exc}); write braces as {{{{ and }}}}") from None
    score, probabilities = score_text(model, prompt, scale)
    ctx.log(f"{column}: {score:.2f}")
    return Verdict(score, {column: score, f"{column}_probabilities": probabilities})
