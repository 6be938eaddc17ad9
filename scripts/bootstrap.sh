#!/usr/bin/env bash
# Create .venv when missing and install the project into it (once per change of pyproject.toml).
#   scripts/bootstrap.sh            runtime dependencies
#   scripts/bootstrap.sh test       runtime + test extras
# Uses uv when it can (fast, cached under ~/.cache/uv), else pip. Installs the Debian
# packages PyICU needs (libicu-dev, pkg-config) when they are missing and we are root; with the test
# extras also Chromium (dashboard browser test), Node and npm, and the DevRev snap-in's packages.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTRAS="${1:-}"
VENV="$ROOT/.venv"
PY="${SIFT_PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

"$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
  || die "Python 3.11 is required (found $("$PY" --version 2>&1)); set SIFT_PYTHON to a 3.11 interpreter"

# PyICU (for polyglot) compiles against ICU.
if ! pkg-config --exists icu-uc 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing libicu-dev and pkg-config (needed to build PyICU)…"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config >/dev/null \
      || die "apt-get install libicu-dev pkg-config failed"
  else
    die "ICU headers missing: install libicu-dev and pkg-config (e.g. sudo apt-get install libicu-dev pkg-config)"
  fi
fi

# --- dashboard browser test: Debian chromium + chromium-driver (only with the test extras) -------
case ",$EXTRAS," in
  *,test,*)
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing chromium and chromium-driver (for the dashboard's browser test)…"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
          || die "apt-get install chromium chromium-driver failed"
      else
        say "warning: chromium/chromedriver missing and not root: the dashboard browser test will be skipped" \
            "(sudo apt-get install chromium chromium-driver)"
      fi
    fi
    ;;
esac
# --- end dashboard browser test -------------------------------------------------------------------

# --- DevRev snap-in tests: Node (Debian's nodejs and npm) and the snap-in's packages (test extras) --
case ",$EXTRAS," in
  *,test,*)
    SNAPIN="$ROOT/snapins/sift/code"
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing nodejs and npm (for the DevRev snap-in's tests)…"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
          || die "apt-get install nodejs npm failed"
      else
        say "warning: node/npm missing and not root: the snap-in tests cannot run (sudo apt-get install nodejs npm)"
      fi
    fi
    if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
      node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
        || die "the snap-in needs Node 18 or newer (found $(node --version))"
      npm_stamp="$SNAPIN/node_modules/.sift-installed-$(sha256sum <"$SNAPIN/package-lock.json" | cut -c1-16)"
      if [ ! -f "$npm_stamp" ]; then
        say "installing the snap-in's npm packages (npm ci in snapins/sift/code)…"
        (cd "$SNAPIN" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in $SNAPIN failed"
        touch "$npm_stamp"
      fi
    fi
    ;;
esac
# --- end DevRev snap-in tests ------------------------------------------------------------------------

UV=""
if command -v uv >/dev/null 2>&1; then
  UV="$(command -v uv)"
elif [ -x "$HOME/.local/bin/uv" ]; then
  UV="$HOME/.local/bin/uv"
elif "$PY" -m pip install --quiet --user uv >/dev/null 2>&1 && [ -x "$HOME/.local/bin/uv" ]; then
  UV="$HOME/.local/bin/uv"
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  if [ -n "$UV" ]; then "$UV" venv --quiet --python "$PY" "$VENV"; else "$PY" -m venv "$VENV"; fi
fi

spec="$ROOT"
[ -n "$EXTRAS" ] && spec="$ROOT[$EXTRAS]"
stamp="$VENV/.sift-installed-$( (cat "$ROOT/pyproject.toml"; echo "$EXTRAS") | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing the project${EXTRAS:+ with [$EXTRAS]} (first run downloads torch and friends; later runs use the cache)…"
  if [ -n "$UV" ]; then
    "$UV" pip install --quiet --python "$VENV/bin/python" -e "$spec"
  else
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$spec"
  fi
  touch "$stamp"
  say "installed"
fi
