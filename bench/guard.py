"""Guard costs per item, against the generation they guard.

Prints one table: the median time of each guard on one item (an LLM-written prompt of ~40 words for
the text guards, a 512x512 picture for NudeNet), and that time as a fraction of

- a tiny txt2img run (the random-init tiny Stable Diffusion of tests/models/tiny_models.py,
  20 steps at its native 128x128), and
- the showcase's draw step (graphs/prompt_to_digit.json: 25 guided DDIM steps of the width-16
  caption UNet at 8x8; weights do not change its cost, so it is built untrained here).

Targets: the full text guard (offensive language + personal data + word list) under 20 ms per
prompt. Rows from other helpers (credentials, watermark) go in ``EXTRA_ROWS``.

    .venv/bin/python bench/guard.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "models"))

PROMPT = (
    "Draw the number seven as a bright birthday card: a large golden seven in the centre, balloons in red "
    "and blue around it, confetti falling, soft morning light, cheerful flat illustration style, warm colours."
)
WORDS = "Mickey Mouse\nPikachu\nHello Kitty\nbatman"
CATEGORIES = (
    "violence: a person is beaten and badly hurt; people fighting with knives and guns\n"
    "hate: insulting people for their religion or origin"
)
EXTRA_ROWS: list[tuple[str, object]] = []  # (name, callable doing one item): credentials, watermark, ...


def delivery_rows(folder: Path) -> list[tuple[str, object]]:
    """C2PA sign/verify and watermark embed/detect rows, from bench/delivery_credentials.py when present."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from delivery_credentials import guard_rows
    except ImportError as exc:  # delivery's benchmark not merged yet, or a package missing
        print(f"(no credential/watermark rows: {exc})")
        return []
    return guard_rows(folder)


def median_ms(work, repeat: int) -> float:
    work()  # warm: first calls load models and fill caches
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def tiny_txt2img(folder: Path):
    import torch
    from diffusers import StableDiffusionPipeline
    from tiny_models import build_tiny_sd

    build_tiny_sd(folder)
    pipe = StableDiffusionPipeline.from_pretrained(str(folder), safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)

    def run():
        pipe(PROMPT, num_inference_steps=20, generator=torch.Generator().manual_seed(0), output_type="np")

    return run


def showcase_draw():
    import numpy as np
    from diffusers import DDPMScheduler

    from nodes.train.checkpoints import DiffusionCheckpoint, History
    from nodes.train.diffusion_sample import caption_condition, denoise
    from nodes.train.diffusion_train import SCHEDULE, build_unet

    unet = build_unet("caption", 1, 8, 16, embed_dim=384).eval()
    model = DiffusionCheckpoint(unet, dict(DDPMScheduler(**SCHEDULE).config), "caption", [str(i) for i in range(10)], History())
    condition = caption_condition(model, np.random.default_rng(0).normal(size=(1, 384)).astype(np.float32))
    return lambda: denoise(model, condition, 1, steps=25, guidance=1.5, seed=8)


def guard_rows():
    import numpy as np
    from PIL import Image
    from sentence_transformers import SentenceTransformer

    from nodes.guard import image, screens
    from nodes.guard.prompt import screen_prompt
    from nodes.guard.semantic import Screen, bundled_minilm, parse_categories

    minilm = SentenceTransformer(str(bundled_minilm()), device="cpu", local_files_only=True)
    def encode(texts):
        return minilm.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    semantic = Screen(encode, parse_categories(CATEGORIES))
    detector = image._detector(None)
    rng = np.random.default_rng(0)
    picture = Image.fromarray((rng.random((512, 512, 3)) * 255).astype(np.uint8))
    labels = image.EXPOSED
    return [
        ("text: offensive language", lambda: screens.offensive(PROMPT)),
        ("text: personal data", lambda: screens.personal(PROMPT, ("email", "phone", "card", "iban", "address"))),
        ("text: word list", lambda: screens.listed(PROMPT, screens.parse_word_list(WORDS))),
        ("text: full text guard (the three above)", lambda: screen_prompt(PROMPT, words=WORDS)),
        ("text: semantic screen (MiniLM)", lambda: semantic.scores([PROMPT])),
        ("text: prompt screen with semantic", lambda: screen_prompt(PROMPT, words=WORDS, screen=semantic)),
        ("image: NudeNet on 512x512", lambda: image.detect(detector, picture, labels, 0.45)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # the shared CI machine: one thread each, as the tests run
    with tempfile.TemporaryDirectory() as tmp:
        txt2img_ms = median_ms(tiny_txt2img(Path(tmp) / "tiny-sd"), max(3, args.repeat // 3))
        draw_ms = median_ms(showcase_draw(), max(3, args.repeat // 3))
        work = guard_rows() + EXTRA_ROWS + delivery_rows(Path(tmp))
        rows = [(name, median_ms(one, args.repeat)) for name, one in work]

    print(f"reference: tiny txt2img (20 steps) {txt2img_ms:.1f} ms; showcase draw step (25 guided steps) {draw_ms:.1f} ms\n")
    header = f"{'guard (one item)':<44} {'ms':>9} {'of txt2img':>11} {'of draw':>9}"
    print(header)
    print("-" * len(header))
    for name, ms in rows:
        print(f"{name:<44} {ms:>9.2f} {ms / txt2img_ms:>10.1%} {ms / draw_ms:>8.1%}")
    full = dict(rows)["text: full text guard (the three above)"]
    print(f"\nfull text guard per prompt: {full:.2f} ms (target under 20 ms: {'met' if full < 20 else 'NOT met'})")


if __name__ == "__main__":
    main()
