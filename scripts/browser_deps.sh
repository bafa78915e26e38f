#!/usr/bin/env bash
# What tests/serve/test_browser.py needs, installed when it can be (`make test` runs this before pytest):
#   - Debian's `chromium` package (BSD-3-Clause; it bundles third-party code under its own licences),
#     installed with apt-get when missing and we are root;
#   - Playwright for Python (Apache-2.0), the optional extra `browser-test`, into the venv. It drives the
#     system Chromium through `executable_path`; `playwright install` (browser downloads) is never run.
# Idempotent, and it never fails `make test`: it says what happened, and why when something could not be
# installed; the browser tests then skip with that reason.
set -u

VENV=${VENV:-.venv}
CHROMIUM=/usr/bin/chromium
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

say() { echo "browser-deps: $*"; }

apt_install_chromium() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >"$LOG" 2>&1 && return 0
    # A fresh container often has no package lists yet: refresh them once and try again.
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOG" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >>"$LOG" 2>&1
}

ensure_chromium() {
    if [ -x "$CHROMIUM" ]; then
        say "chromium present: $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
    elif [ "$(id -u)" != 0 ]; then
        say "chromium missing at $CHROMIUM and not running as root, so apt-get cannot install it;"
        say "  run 'sudo apt-get install chromium' — until then the browser tests skip"
    elif ! command -v apt-get >/dev/null 2>&1; then
        say "chromium missing at $CHROMIUM and there is no apt-get (not Debian/Ubuntu): the browser tests skip"
    else
        say "chromium missing: apt-get install --no-install-recommends chromium ..."
        if apt_install_chromium; then
            say "chromium installed: $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
        else
            say "apt-get could not install chromium (the browser tests skip); its last lines:"
            tail -n 15 "$LOG" | sed 's/^/    /'
        fi
    fi
}

ensure_playwright() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "no virtual environment at $VENV (run make install): the browser tests skip"
    elif "$VENV/bin/python" -c "import playwright" >/dev/null 2>&1; then
        say "playwright present: $("$VENV/bin/python" -m pip show playwright 2>/dev/null | sed -n 's/^Version: //p')"
    else
        say "installing playwright (the browser-test extra) into $VENV ..."
        if "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[browser-test]" >"$LOG" 2>&1; then
            say "playwright installed"
        else
            say "pip could not install playwright (the browser tests skip); its last lines:"
            tail -n 15 "$LOG" | sed 's/^/    /'
        fi
    fi
}

ensure_chromium
ensure_playwright
exit 0
