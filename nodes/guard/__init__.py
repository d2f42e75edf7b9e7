"""Guard pack: nodes that pass content through when it is clean and otherwise block, redact or flag
it. Text: offensive language (alt-profanity-check), personal data, a word list, a MiniLM semantic
screen, and a prompt screen that runs them together; images: nudity (NudeNet). A block raises
``nodeflow.Blocked``; every guard reports what it found on its ``report`` and ``flags`` outputs."""

from . import audio, image, prompt, semantic, text  # noqa: F401  (importing registers the nodes)
