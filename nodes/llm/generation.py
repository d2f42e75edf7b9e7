"""Text generation with a causal LM: plain or chat-formatted, seeded, streamed as text previews."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from nodeflow import Code, Context, LanguageModel, LanguageModelHandle, Param, String, extract_code, node

__all__ = ["generate_text", "generate", "prompt_writer"]


def generate_text(
    handle: LanguageModelHandle,
    prompt: str,
    *,
    system: str = "",
    chat: bool = True,
    temperature: float = 0.7,
    top_p: float = 0.9,
    max_tokens: int = 64,
    seed: int = 0,
    on_text: Callable[[str], None] | None = None,
) -> str:
    """Generate a reply to ``prompt``. Same seed, same text (on the same device).

    ``temperature`` 0 decodes greedily. ``on_text`` receives the text so far after every token; it
    may raise (``ctx.check()``) to stop generation between tokens.
    """
    import torch

    loaded = handle.loaded()
    model, tokenizer = loaded.model, loaded.tokenizer
    if chat and getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        encoded = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
    else:
        encoded = tokenizer(f"{system}\n\n{prompt}" if system else prompt, return_tensors="pt")
    encoded = {name: tensor.to(model.device) for name, tensor in encoded.items()}
    prompt_length = encoded["input_ids"].shape[1]
    options: dict[str, Any] = {
        "max_new_tokens": max_tokens,
        "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    }
    if temperature > 0:
        options.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
    else:
        options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    if on_text is not None:
        options["streamer"] = _TextStreamer(tokenizer, on_text)
    rng_devices = [model.device] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices), torch.inference_mode():
        torch.manual_seed(seed)  # forked, so a node's seed never disturbs anyone else's randomness
        output = model.generate(**encoded, **options)
    return tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True).strip()


class _TextStreamer:
    """Receives token ids from ``generate`` and passes on the decoded text so far."""

    def __init__(self, tokenizer: Any, on_text: Callable[[str], None]):
        self.tokenizer = tokenizer
        self.on_text = on_text
        self.tokens: list[int] = []
        self.seen_prompt = False

    def put(self, value: Any) -> None:
        if not self.seen_prompt:  # generate first hands over the prompt itself
            self.seen_prompt = True
            return
        self.tokens.extend(int(t) for t in value.reshape(-1).tolist())
        self.on_text(self.tokenizer.decode(self.tokens, skip_special_tokens=True))

    def end(self) -> None:
        pass


def _streaming(ctx: Context) -> Callable[[str], None]:
    def on_text(text: str) -> None:
        ctx.check()  # a cancellation point between tokens
        ctx.preview(text, kind="text")

    return on_text


_TEMPERATURE = Param(0.7, min=0, max=2, step=0.05, display="slider", description="0 picks the likeliest token")
_TOP_P = Param(0.9, min=0.05, max=1, step=0.05, display="slider")


class Generated(NamedTuple):
    text: String
    code: Code  # the reply's fenced code blocks (the whole reply when it has none)


@node("llm.generate", category="LLM")
def generate(
    model: LanguageModel,
    ctx: Context,
    *,
    prompt: str = Param("Write a haiku about a river.", kind="text"),
    system: str = Param("You are a helpful assistant.", kind="text", description="the system prompt"),
    template: str = Param("{prompt}", kind="text", description="wraps the prompt; {prompt} marks where it goes"),
    chat: bool = Param(True, description="format as a chat with the model's chat template"),
    temperature: float = _TEMPERATURE,
    top_p: float = _TOP_P,
    max_tokens: int = Param(128, min=1, max=8192),
    seed: int = Param(0, kind="seed"),
    code_language: str = Param("", description="ask for code in this language (python, javascript, ...); "
                               "the code output takes the reply's fenced blocks"),
) -> Generated:
    """Generate text from a prompt. Tokens stream onto the node as they come; same seed, same text.

    The code output holds the fenced code blocks of the reply (never run by nodeflow)."""
    if "{prompt}" not in template:
        raise ValueError("template must contain {prompt}, which marks where the prompt goes")
    if code_language.strip():
        system = f"{system}\nReply with the code in one fenced ```{code_language.strip()} block.".strip()
    text = generate_text(
        model,
        template.replace("{prompt}", prompt),
        system=system,
        chat=chat,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        seed=seed,
        on_text=_streaming(ctx),
    )
    return Generated(text, extract_code(text, code_language))


STYLES = {
    "any": "",
    "photo": "a realistic photograph",
    "illustration": "a detailed digital illustration",
    "oil painting": "an oil painting",
    "watercolour": "a watercolour painting",
    "3d render": "a 3D render",
    "pixel art": "pixel art",
    "anime": "an anime drawing",
}

WRITER_SYSTEM = (
    "You write prompts for a text-to-image model. Given a short idea, reply with one detailed image "
    "prompt: the subject, the setting, lighting, colours, composition and style. Reply with the prompt "
    "only, as one paragraph of under 60 words."
)


@node("llm.prompt_writer", category="LLM", title="Prompt writer")
def prompt_writer(
    model: LanguageModel,
    ctx: Context,
    *,
    idea: str = Param("a lighthouse on a cliff at dawn", kind="text", description="a few words"),
    style: str = Param("any", choices=tuple(STYLES)),
    temperature: float = _TEMPERATURE,
    top_p: float = _TOP_P,
    max_tokens: int = Param(80, min=8, max=512),
    seed: int = Param(0, kind="seed"),
) -> String:
    """Turn a short idea into a detailed image prompt for a diffusion model."""
    if not idea.strip():
        raise ValueError("idea is empty: write a few words about the picture you want")
    request = f"Idea: {idea.strip()}"
    if STYLES[style]:
        request += f"\nStyle: {STYLES[style]}"
    text = generate_text(
        model,
        request,
        system=WRITER_SYSTEM,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        seed=seed,
        on_text=_streaming(ctx),
    )
    return tidy_prompt(text, idea.strip(), STYLES[style])


def tidy_prompt(text: str, idea: str, style: str) -> str:
    """One clean line: no quotes or "Prompt:" label; the idea and style kept when the model lost them."""
    text = re.sub(r"^\s*(image\s+)?prompt\s*:\s*", "", text, flags=re.IGNORECASE)
    text = " ".join(text.split()).strip().strip('"\u201c\u201d').strip()
    if not text:
        text = idea
    if style and style.lower() not in text.lower():
        text = f"{text.rstrip('.')}, {style}"
    return text
