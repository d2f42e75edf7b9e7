"""The text screens the guard nodes share: offensive language, listed words, personal data.

Each screen is a plain function from text to findings, so the single-purpose guards and the prompt
screen (which runs several at once) use the same code. ``alt-profanity-check`` is imported on first
use (its scikit-learn model takes seconds to load, once per process).
"""

from __future__ import annotations

import re
from functools import lru_cache

from nodes.guard.findings import Finding
from nodes.guard.personal_data import find_personal_data

__all__ = ["listed", "offensive", "parse_word_list", "personal", "sentences"]

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[\w'*@$!-]+")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of the text, stripped of surrounding blanks."""
    spans = []
    for m in _SENTENCE.finditer(text):
        chunk = m.group()
        lead = len(chunk) - len(chunk.lstrip())
        trimmed = chunk.strip()
        if trimmed:
            spans.append((m.start() + lead, m.start() + lead + len(trimmed)))
    return spans


@lru_cache(maxsize=1)
def _profanity_model():
    """alt-profanity-check's probability, computed straight from its fitted arrays.

    Its model is a TF-IDF vectorizer and a CalibratedClassifierCV of linear SVMs with sigmoid
    calibration; asking scikit-learn's ``predict_proba`` costs tens of milliseconds of overhead per
    call, the same sums done here cost a fraction of one and give the same numbers. Any other model
    layout (a future release) falls back to the package's own ``predict_prob``.
    """
    import numpy as np
    from profanity_check import predict_prob
    from profanity_check import profanity_check as package

    try:
        folds = package.model.calibrated_classifiers_
        weights = np.stack([fold.estimator.coef_.ravel() for fold in folds], axis=1)
        offsets = np.array([fold.estimator.intercept_[0] for fold in folds])
        slopes = np.array([fold.calibrators[0].a_ for fold in folds])
        shifts = np.array([fold.calibrators[0].b_ for fold in folds])
        vectorizer = package.vectorizer
        if list(package.model.classes_) != [0, 1]:
            return predict_prob
    except (AttributeError, IndexError, ValueError):
        return predict_prob

    def probability(texts: list[str]):
        scores = vectorizer.transform(texts) @ weights + offsets
        return (1.0 / (1.0 + np.exp(slopes * scores + shifts))).mean(axis=1)

    return probability


def offensive(text: str, threshold: float = 0.7) -> list[Finding]:
    """Offensive language: each sentence scored by alt-profanity-check; in a sentence over the
    threshold, the words over it are the findings (the whole sentence when no single word is)."""
    spans = sentences(text)
    if not spans:
        return []
    predict = _profanity_model()
    scores = predict([text[a:b] for a, b in spans])
    found: list[Finding] = []
    for (start, end), score in zip(spans, scores, strict=False):
        if score < threshold:
            continue
        words = list(_WORD.finditer(text, start, end))
        word_scores = predict([w.group() for w in words]) if words else []
        bad = [(w, s) for w, s in zip(words, word_scores, strict=False) if s >= threshold]
        if bad:
            found += [Finding("offensive", w.start(), w.end(), round(float(s), 3)) for w, s in bad]
        else:
            found.append(Finding("offensive", start, end, round(float(score), 3)))
    return found


def parse_word_list(words: str) -> list[str]:
    """One word or phrase per line (commas separate too); blank entries and ``#`` comments dropped."""
    entries = []
    for line in words.splitlines():
        line = line.split("#", 1)[0]
        entries += [part.strip() for part in line.split(",") if part.strip()]
    return entries


@lru_cache(maxsize=64)
def _word_pattern(entries: tuple[str, ...]) -> re.Pattern:
    # longest first, so "red wine" wins over "red"; whole words only, any case, any spacing
    alternatives = sorted(entries, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(part) for part in entry.split()) for entry in alternatives)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def listed(text: str, entries: list[str]) -> list[Finding]:
    """Every occurrence of a listed word or phrase (whole words, any case)."""
    if not entries:
        return []
    return [Finding("listed", m.start(), m.end()) for m in _word_pattern(tuple(entries)).finditer(text)]


def personal(text: str, kinds: tuple[str, ...]) -> list[Finding]:
    return find_personal_data(text, kinds)
