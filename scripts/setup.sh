#!/usr/bin/env bash
# Set up everything voiceclone needs on a fresh Debian machine, idempotently:
# system packages (only those missing), a virtual environment in .venv with the
# pinned Python packages (re-installed only when requirements.txt changes).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg flite espeak-ng chromium)
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
want=$(cat requirements.txt requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages (torch alone is several GB; first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade "pip>=24" wheel
  "$VENV/bin/python" -m pip install -q -r requirements.txt
  "$VENV/bin/python" -m pip install -q --no-deps -r requirements-nodeps.txt
  echo "$want" > "$stamp"
fi
