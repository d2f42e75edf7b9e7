"""Using a trained language model: sampling text, and validation loss / perplexity on a text."""

from __future__ import annotations

import math

from nodeflow import Context, LanguageModel, LanguageModelHandle, Param, TextCorpus, TextDataset, node
from nodes.train.checkpoints import LMCheckpoint, TrainedLM
from nodes.train.monitor import cpu_threads

__all__ = ["encode_corpus", "generate_text", "next_token_loss", "window_loss"]


def encode_corpus(tokenizer, corpus: TextCorpus):
    """A text as one long tensor of token ids (no special tokens)."""
    import torch

    ids = tokenizer.encode(corpus.text, add_special_tokens=False)
    return torch.tensor(ids, dtype=torch.long)


def generate_text(
    model: LMCheckpoint, prompt: str, *, max_new_tokens: int, temperature: float, top_k: int = 0, seed: int = 0,
    progress=None,
) -> str:
    """Sample a continuation of ``prompt`` token by token (the window slides past the model's context)."""
    import torch

    net, tokenizer = model.model, model.tokenizer
    context = net.config.n_positions
    ids = tokenizer.encode(prompt, add_special_tokens=False) if prompt else [tokenizer.eos_token_id]
    generator = torch.Generator().manual_seed(int(seed) % (2**63))
    was_training = net.training
    net.eval()
    new: list[int] = []
    with torch.inference_mode():
        for index in range(max_new_tokens):
            if progress is not None:
                progress(index, max_new_tokens)
            window = torch.tensor([(ids + new)[-context:]])
            logits = net(input_ids=window).logits[0, -1].float()
            if temperature <= 0:
                token = int(logits.argmax())
            else:
                logits = logits / temperature
                if top_k > 0:
                    cutoff = torch.topk(logits, min(top_k, len(logits))).values[-1]
                    logits = logits.masked_fill(logits < cutoff, float("-inf"))
                token = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator))
            if token == tokenizer.eos_token_id:
                break
            new.append(token)
    net.train(was_training)
    return tokenizer.decode(new)


def next_token_loss(net, chunk):
    """Cross-entropy of predicting ``chunk[:, 1:]`` from ``chunk[:, :-1]``, at every position."""
    import torch.nn.functional as F

    logits = net(input_ids=chunk[:, :-1]).logits
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), chunk[:, 1:].reshape(-1))


def window_loss(net, ids, context: int, *, max_windows: int = 0) -> float:
    """Mean next-token loss over consecutive windows of ``ids`` (each predicts ``context`` tokens): all
    of them, or ``max_windows`` spread evenly over the text (so a quick measure is not just its opening)."""
    import torch

    count = (len(ids) - 1) // context
    if count < 1:
        raise ValueError(f"the text is {len(ids)} tokens; measuring needs more than {context}")
    starts = torch.arange(count) * context
    if max_windows and max_windows < count:
        starts = starts[torch.linspace(0, count - 1, max_windows).round().long()]
    net.eval()
    total, windows = 0.0, 0
    with torch.inference_mode():
        for first in range(0, len(starts), 32):
            batch = torch.stack([ids[s : s + context + 1] for s in starts[first : first + 32].tolist()])
            total += float(next_token_loss(net, batch)) * len(batch)
            windows += len(batch)
    return total / windows


@node("train.lm_generate", category="Train / Sample", outputs=("text",))
def lm_generate(
    model: TrainedLM,
    prompt: str | None = None,
    ctx: Context = None,
    *,
    prompt_text: str = Param("", kind="text", description="used when prompt is not linked"),
    max_new_tokens: int = Param(200, min=1, max=100_000),
    temperature: float = Param(0.8, min=0.0, max=5.0, step=0.05, display="slider", description="0 always takes the likeliest token"),
    top_k: int = Param(0, min=0, max=100_000, description="sample among the k likeliest; 0 for all"),
    seed: int = Param(0, kind="seed"),
    include_prompt: bool = Param(True),
) -> str:
    """Write text with a trained language model, continuing the prompt. Seeded: the same seed, the same text."""
    start = prompt if prompt is not None else prompt_text
    with cpu_threads():
        text = generate_text(model, start, max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k, seed=seed,
                             progress=ctx.progress if ctx is not None else None)
    text = start + text if include_prompt else text
    if ctx is not None:
        ctx.preview(text)
    return text


@node("train.lm_evaluate", category="Train / Evaluate", output=True, outputs=("report",))
def lm_evaluate(
    model: TrainedLM,
    corpus: TextDataset,
    ctx: Context,
    *,
    max_windows: int = Param(0, min=0, max=1_000_000, description="0 measures the whole text"),
) -> dict:
    """Validation loss (nats per token) and perplexity of the model on a text it did not train on."""
    ids = encode_corpus(model.tokenizer, corpus)
    with cpu_threads():
        loss = window_loss(model.model, ids, model.model.config.n_positions, max_windows=max_windows)
    report = {"loss": round(loss, 4), "perplexity": round(math.exp(loss), 3), "tokens": int(len(ids))}
    ctx.log(f"validation loss {loss:.3f}, perplexity {math.exp(loss):.2f} over {len(ids):,} tokens")
    return report


@node("train.lm_as_language_model", category="Train / Sample", outputs=("model",))
def lm_as_language_model(model: TrainedLM) -> LanguageModel:
    """Hand a language model trained in the graph to the LLM pack's nodes (llm.generate and friends).

    It has no chat template and a short context: on llm.generate set ``chat`` off, empty the system
    prompt, and keep prompt plus max_tokens within the context it was trained with."""
    return LanguageModelHandle("trained in the graph", model=model.model, tokenizer=model.tokenizer)
