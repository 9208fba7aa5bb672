#!/usr/bin/env bash
# Set up everything voiceclone needs on a fresh Debian machine, idempotently, the
# way a Hugging Face Space does: the system packages of packages.txt (only those
# missing), then a virtual environment in .venv with `pip install -r
# requirements.txt` (again only when the file changed). With --dev, also the test
# tools: requirements-dev.txt and Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=requirements.txt
mapfile -t APT_PACKAGES < <(grep -v '^\s*\(#\|$\)' packages.txt)
if [ "${1:-}" = "--dev" ]; then
  REQUIREMENTS=requirements-dev.txt
  APT_PACKAGES+=(chromium)
fi
PYTHON=${PYTHON:-python3}
VENV=.venv

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
want=$( (echo "$REQUIREMENTS"; cat requirements.txt requirements-dev.txt) | sha256sum | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
# The app's set is part of the dev set: a venv set up for tests serves the app as is.
dev=$( (echo requirements-dev.txt; cat requirements.txt requirements-dev.txt) | sha256sum | cut -d' ' -f1)
if [ "$have" != "$want" ] && [ "$have" != "$dev" ]; then
  echo "setup: installing Python packages from $REQUIREMENTS (torch alone is several GB; first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade "pip>=24" wheel
  "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS"
  echo "$want" > "$stamp"
fi
