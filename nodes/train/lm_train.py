"""Training a small transformer language model (transformers GPT-2 architecture) on a text corpus.

Character or BPE tokens (from the data pack's tokenizers). Random windows of the encoded text, drawn
from a seeded generator; a held-out text gives a validation curve. The checkpoint folder loads with
``AutoModelForCausalLM`` and ``AutoTokenizer``.
"""

from __future__ import annotations

import copy
from typing import Any

from nodeflow import Context, Param, TextCorpus, TextDataset, Tokenizer, node
from nodes.train.checkpoints import History, LMCheckpoint, TrainedLM, _save_lm
from nodes.train.lm_sample import encode_corpus, generate_text, next_token_loss, window_loss
from nodes.train.monitor import TrainingMonitor, cosine_lr, cpu_threads, seeded_generator
from nodes.train.tracking import data_hash, open_tracker, track_param

__all__ = ["build_lm", "train_language_model"]


def build_lm(tokenizer, *, context: int, layers: int, width: int, heads: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=context, n_embd=width, n_layer=layers, n_head=heads,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,  # no dropout: small data, short runs, exact replays
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    return GPT2LMHeadModel(config)


def train_language_model(
    corpus: TextCorpus,
    tokenizer,
    *,
    validation: TextCorpus | None = None,
    init: LMCheckpoint | None = None,
    steps: int = 600,
    batch_size: int = 32,
    context: int = 64,
    layers: int = 2,
    width: int = 128,
    heads: int = 4,
    learning_rate: float = 6e-3,
    eval_every: int = 100,
    seed: int = 0,
    ctx: Context | None = None,
    tracker: Any = None,
) -> LMCheckpoint:
    """The training loop (the node below wraps it)."""
    import torch

    torch.manual_seed(seed)
    if init is not None:
        if init.tokenizer.get_vocab() != tokenizer.get_vocab():
            raise ValueError("the checkpoint was trained with a different tokenizer: link the same tokenizer node")
        model = copy.deepcopy(init.model)
        context = model.config.n_positions
        history = init.history.extended({"steps": steps, "seed": seed, "learning_rate": learning_rate})
    else:
        if width % heads:
            raise ValueError(f"width ({width}) must be a multiple of heads ({heads})")
        model = build_lm(tokenizer, context=context, layers=layers, width=width, heads=heads)
        history = History(runs=[{"steps": steps, "seed": seed, "learning_rate": learning_rate,
                                 "layers": layers, "width": width, "context": context}])
    ids = encode_corpus(tokenizer, corpus)
    if len(ids) <= context + 1:
        raise ValueError(f"the text is {len(ids)} tokens long; training needs more than the context ({context})")
    held = encode_corpus(tokenizer, validation) if validation is not None else None
    if held is not None and len(held) <= context + 1:
        held = None  # too short to measure anything
    checkpoint = LMCheckpoint(model, tokenizer, history)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.99), weight_decay=0.01)
    generator = seeded_generator(seed)

    def samples() -> str:
        return "sample: " + generate_text(checkpoint, "", max_new_tokens=120, temperature=0.8, seed=seed)

    monitor = TrainingMonitor(ctx, steps, history, samples=samples, samples_every_s=15.0, tracker=tracker)
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps, learning_rate, warmup=min(100, steps // 10 + 1))
        starts = torch.randint(0, len(ids) - context, (batch_size,), generator=generator)
        chunk = torch.stack([ids[s : s + context + 1] for s in starts.tolist()])
        # every position learns its next token, the last one too: sampling reads the last position of
        # a full window, which transformers' own shifted loss (labels=input_ids) never trains
        loss = next_token_loss(model, chunk)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses = {"loss": loss.item()}
        if held is not None and ((step + 1) % eval_every == 0 or step + 1 == steps):
            losses["validation"] = window_loss(model, held, context, max_windows=64)
            model.train()
        monitor.step(**losses)
    monitor.finish()
    model.eval()
    if held is not None:
        history.runs[-1]["validation_loss"] = history.curves["validation"][-1]
    return checkpoint


@node("train.language_model", category="Train", cache="disk", outputs=("model",))
def train_lm(
    corpus: TextDataset,
    tokenizer: Tokenizer,
    validation: TextDataset | None = None,
    init: TrainedLM | None = None,
    ctx: Context = None,
    *,
    steps: int = Param(600, min=1, max=1_000_000),
    batch_size: int = Param(32, min=1, max=4096),
    context: int = Param(64, min=8, max=4096, description="tokens the model sees at once"),
    layers: int = Param(2, min=1, max=48),
    width: int = Param(128, min=16, max=4096, description="embedding size (a multiple of heads)"),
    heads: int = Param(4, min=1, max=64),
    learning_rate: float = Param(6e-3, min=1e-6, max=1.0),
    eval_every: int = Param(100, min=1, max=100_000, description="steps between validation losses"),
    seed: int = Param(0, kind="seed"),
    track: str = track_param(),
) -> TrainedLM:
    """Train a small GPT-style language model, live loss curve (and validation curve) and samples on the node.

    Link ``init`` to continue from an earlier checkpoint (the architecture comes from it). The result
    is cached on disk, keyed by the text, the tokenizer and these settings.
    """
    settings = {"steps": steps, "batch_size": batch_size, "context": context, "layers": layers, "width": width,
                "heads": heads, "learning_rate": learning_rate, "eval_every": eval_every, "seed": seed}
    tracker = open_tracker(ctx, track, params=settings, data=data_hash(corpus.text))
    with cpu_threads():
        checkpoint = train_language_model(
            corpus, tokenizer, validation=validation, init=init, ctx=ctx, tracker=tracker, **settings,
        )
    final = {name: values[-1] for name, values in checkpoint.history.curves.items() if values}
    tracker.finish(final, save=lambda folder: _save_lm(checkpoint, folder))
    return checkpoint
