"""Fine-tuning a pretrained language model with LoRA (peft) on chat pairs or plain texts.

The base model is never changed: training works on a copy with small low-rank matrices added to its
linear layers, and only those train. Chat pairs are formatted exactly as ``llm.generate`` formats a
prompt (the model's chat template, with the same ``system`` and ``template``), and only the response
tokens are learnt. The adapter is saved as one ``.safetensors`` file (format in nodes/llm/adapters.py)
and the node's model output is the base with the adapter on, which every llm node takes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, NamedTuple

from nodeflow import Context, ExampleSet, File, LanguageModel, LanguageModelHandle, Param, TextExamples, node
from nodes.train.checkpoints import History
from nodes.train.lora_files import write_lora_file
from nodes.train.monitor import TrainingMonitor, cosine_lr, cpu_threads, seeded_generator

__all__ = ["encode_examples", "lora_model", "train_llm_lora", "lora_step"]

ADAPTER_FORMAT = "nodeflow-llm-lora"  # what nodes/llm/adapters.py reads
_SIGNATURE_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")


def encode_examples(data: ExampleSet, tokenizer: Any, *, system: str = "", template: str = "{prompt}",
                    max_tokens: int = 256) -> list[tuple[list[int], int]]:
    """Token ids of each example and how many leading tokens are prompt (not learnt)."""
    eos = tokenizer.eos_token_id
    chat = bool(getattr(tokenizer, "chat_template", None))
    encoded = []
    for row in data.rows:
        if "text" in row:
            ids = tokenizer(row["text"], add_special_tokens=False)["input_ids"] + [eos]
            encoded.append((ids[:max_tokens], 0))
            continue
        prompt = template.replace("{prompt}", row["prompt"])
        system_text = row.get("system", system)
        if chat:  # as llm.generate formats it
            messages = ([{"role": "system", "content": system_text}] if system_text else [])
            messages.append({"role": "user", "content": prompt})
            head = list(tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"])
            whole = list(tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": row["response"]}],
                                                       return_dict=True)["input_ids"])
            if whole[: len(head)] == head and len(whole) > len(head):
                ids = whole
            else:
                ids = head + tokenizer(row["response"], add_special_tokens=False)["input_ids"] + [eos]
        else:
            head = tokenizer(f"{system_text}\n\n{prompt}" if system_text else prompt)["input_ids"]
            ids = head + tokenizer(" " + row["response"], add_special_tokens=False)["input_ids"] + [eos]
        if len(head) >= max_tokens:
            raise ValueError(f"example {len(encoded) + 1}'s prompt is {len(head)} tokens, more than max_tokens ({max_tokens})")
        encoded.append((ids[:max_tokens], len(head)))
    return encoded


def collate(batch: list[tuple[list[int], int]], pad_id: int) -> dict[str, Any]:
    """Right-padded ids, attention mask and labels (-100 where nothing is learnt)."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, prompt_length) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, prompt_length : len(ids)] = torch.tensor(ids[prompt_length:])
        mask[row, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def lora_model(base: Any, *, rank: int, alpha: float, targets: str) -> Any:
    """A peft model around a copy of ``base`` with fresh LoRA layers (only those train)."""
    from peft import LoraConfig, get_peft_model

    modules: Any = "all-linear" if targets.strip() == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()]
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=modules, bias="none",
                        task_type="CAUSAL_LM")
    try:
        return get_peft_model(copy.deepcopy(base), config)
    except ValueError as exc:
        raise ValueError(f"targets {targets!r} do not fit this model ({exc}); try all-linear") from None


def lora_step(model: Any, optimizer: Any, batch: dict[str, Any]) -> float:
    """One optimisation step; returns the loss."""
    import torch

    loss = model(**batch).loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    optimizer.step()
    return loss.item()


def _sample(model: Any, tokenizer: Any, encoded: list[tuple[list[int], int]], data: ExampleSet) -> str:
    import torch

    lines = []
    for (ids, prompt_length), row in list(zip(encoded, data.rows, strict=False))[:2]:
        head = torch.tensor([ids[:prompt_length] if prompt_length else ids[:8]], device=model.device)
        with torch.inference_mode():
            out = model.generate(input_ids=head, attention_mask=torch.ones_like(head), max_new_tokens=24,
                                 do_sample=False, pad_token_id=tokenizer.eos_token_id)
        reply = tokenizer.decode(out[0, head.shape[1]:], skip_special_tokens=True).strip()
        lines.append(f"{row.get('prompt', row.get('text', '')[:40])!r} -> {reply!r}")
    model.train()
    return "samples:\n" + "\n".join(lines)


def train_llm_lora(
    handle: Any,
    data: ExampleSet,
    *,
    init: Path | None = None,
    steps: int = 100,
    batch_size: int = 8,
    learning_rate: float = 1e-3,
    rank: int = 8,
    alpha: float = 16.0,
    targets: str = "all-linear",
    system: str = "",
    template: str = "{prompt}",
    max_tokens: int = 256,
    seed: int = 0,
    ctx: Context | None = None,
) -> tuple[Any, dict[str, Any], History]:
    """The training loop (the node below wraps it): ``(peft model, adapter tensors, history)``."""
    import torch
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    if not len(data):
        raise ValueError("the examples are empty: nothing to learn from")
    if "{prompt}" not in template:
        raise ValueError("template must contain {prompt}, which marks where the prompt goes")
    # 1. the data, as llm.generate will see it
    loaded = handle.loaded()
    tokenizer = loaded.tokenizer
    encoded = encode_examples(data, tokenizer, system=system, template=template, max_tokens=max_tokens)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    # 2. the model: a copy of the base with LoRA layers (continuing an earlier adapter when given)
    torch.manual_seed(seed)
    model = lora_model(loaded.model, rank=rank, alpha=alpha, targets=targets)
    device = loaded.model.device
    run = {"steps": steps, "seed": seed, "learning_rate": learning_rate, "rank": rank}
    history = History(runs=[run])
    if init is not None:
        from safetensors import safe_open

        with safe_open(str(init), framework="pt") as opened:
            meta = opened.metadata() or {}
            state = {key: opened.get_tensor(key) for key in opened.keys()}
        if meta.get("format") != ADAPTER_FORMAT or json.loads(meta.get("lora", "{}")).get("r") != rank:
            raise ValueError(f"init {Path(init).name} is not an LLM LoRA of rank {rank} from train.llm_lora")
        set_peft_model_state_dict(model, state)
        if "history" in meta:
            history = History.from_json(json.loads(meta["history"])).extended(run)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.0)
    generator = seeded_generator(seed)

    # 3. train, with the curve and sample replies on the node
    # a pair of replies costs about two steps (3.5 CPU s for SmolLM2): the first comes 45 s in, unless
    # the end is within 90 s, then the monitor keeps them to about 2% of the run
    monitor = TrainingMonitor(ctx, steps, history, samples=lambda: _sample(model, tokenizer, encoded, data),
                              samples_every_s=90.0)
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps, learning_rate, warmup=min(20, steps // 10 + 1))
        picks = torch.randint(0, len(encoded), (batch_size,), generator=generator).tolist()
        batch = collate([encoded[i] for i in picks], pad_id)
        loss = lora_step(model, optimizer, {name: tensor.to(device) for name, tensor in batch.items()})
        monitor.step(loss=loss)
    monitor.finish()
    model.eval()
    state = get_peft_model_state_dict(model, save_embedding_layers=False)
    return model, state, history


def adapter_metadata(model: Any, handle: Any, history: History, *, rank: int, alpha: float) -> dict[str, Any]:
    config = model.peft_config["default"]
    base = model.get_base_model().config
    return {
        "format": ADAPTER_FORMAT,
        "lora": {"r": rank, "lora_alpha": alpha, "target_modules": sorted(config.target_modules)},
        "base_model": handle.name,
        "base_signature": {key: getattr(base, key, None) for key in _SIGNATURE_KEYS},
        "history": history.to_json(),
    }


class Tuned(NamedTuple):
    model: LanguageModel
    adapter: File


@node("train.llm_lora", category="Train", cache="disk", title="LLM LoRA fine-tune")
def llm_lora(
    model: LanguageModel,
    examples: TextExamples,
    init: File | None = None,
    ctx: Context = None,
    *,
    steps: int = Param(100, min=1, max=1_000_000),
    batch_size: int = Param(8, min=1, max=1024),
    learning_rate: float = Param(1e-3, min=1e-6, max=1.0),
    rank: int = Param(8, min=1, max=256, description="size of the low-rank update; 4-16 is typical"),
    alpha: float = Param(16.0, min=0.01, max=1024, description="scale of the update (alpha / rank)"),
    targets: str = Param("all-linear", description="layers to adapt: all-linear, or names such as q_proj,v_proj"),
    system: str = Param("", kind="text", description="system prompt, as the llm.generate node that will use it"),
    template: str = Param("{prompt}", kind="text", description="wraps each prompt, as in llm.generate"),
    max_tokens: int = Param(256, min=8, max=8192, description="examples are cut to this many tokens"),
    merge: bool = Param(False, description="merge the adapter into the output model's weights"),
    seed: int = Param(0, kind="seed"),
) -> Tuned:
    """Fine-tune a language model with LoRA on examples: live loss curve and sample replies on the node.

    Outputs the model with the adapter on (for any llm node) and the adapter file (in the models
    folder's loras/, for llm.adapter or llm.load elsewhere). Link ``init`` to continue an adapter.
    Cached on disk, keyed by the model, the examples and these settings.
    """
    with cpu_threads():
        peft_model, state, history = train_llm_lora(
            model, examples, init=Path(init) if init is not None else None, steps=steps, batch_size=batch_size,
            learning_rate=learning_rate, rank=rank, alpha=alpha, targets=targets, system=system, template=template,
            max_tokens=max_tokens, seed=seed, ctx=ctx,
        )
    meta = adapter_metadata(peft_model, model, history, rank=rank, alpha=alpha)
    path = write_lora_file(state, meta, ctx, stem=f"{Path(model.name).stem}-lora")
    out_model = peft_model.merge_and_unload() if merge else peft_model
    base_folder = model.base_folder if model.adapter_file is None else None
    handle = LanguageModelHandle(f"{model.name} + {path.stem}", model=out_model, tokenizer=model.tokenizer,
                         base_folder=base_folder, adapter_file=str(path), merged=merge)
    if ctx is not None:
        ctx.log(f"adapter saved: {path}")
    return Tuned(handle, path)
