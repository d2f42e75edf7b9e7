#!/usr/bin/env bash
# Runs the whole test suite offline, as CI does. Browser tests need Debian's chromium and
# firefox-esr: as root this installs them when missing; otherwise it says how.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 NODEFLOW_HOME="${NODEFLOW_HOME:-$(mktemp -d)}"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's ${missing[*]} for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "browser tests need ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}'" >&2
    exit 1
  fi
fi
mkdir -p test-output
# two workers (NODEFLOW_TEST_WORKERS to change; 0 runs in this process): many tests wait on servers,
# browsers and subprocesses, so two overlap well on two cores. tests/conftest.py keeps each file on one worker.
# --durations: the slowest tests, printed where CI logs show them (the suite must stay under 20 minutes)
exec .venv/bin/python -m pytest -q -n "${NODEFLOW_TEST_WORKERS:-2}" --dist loadgroup --durations=15 "$@"
