#!/usr/bin/env bash
# Build a Python environment exactly as a Hugging Face Space does: the system
# packages of packages.txt from apt, then `pip install -r requirements.txt` into
# a fresh virtual environment, nothing else (no setup.sh, no dev tools). Used by
# the Space check (tests/test_space.py); by hand: scripts/space_env.sh DIR, then
# DIR/bin/python app.py. Rebuilt only when requirements.txt or packages.txt
# changed; the seconds each step took go to DIR/space-env.json.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:?usage: scripts/space_env.sh VENV_DIR}
PYTHON=${PYTHON:-python3}

want=$(cat requirements.txt packages.txt | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.space-stamp" 2>/dev/null)" = "$want" ]; then
  echo "space_env: $VENV is up to date"
  exit 0
fi

start=$SECONDS
mapfile -t packages < <(grep -v '^\s*\(#\|$\)' packages.txt)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
apt_done=$SECONDS

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
# A Space's image brings a current pip; the venv's own may be older.
"$VENV/bin/python" -m pip install -q --upgrade pip
echo "space_env: pip install -r requirements.txt into $VENV"
"$VENV/bin/python" -m pip install -q -r requirements.txt
pip_done=$SECONDS

size_mb=$(du -sm "$VENV" | cut -f1)
printf '{"apt_s": %d, "pip_s": %d, "venv_mb": %d}\n' \
  $((apt_done - start)) $((pip_done - apt_done)) "$size_mb" > "$VENV/space-env.json"
echo "$want" > "$VENV/.space-stamp"
cat "$VENV/space-env.json"
