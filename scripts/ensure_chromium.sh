#!/usr/bin/env bash
# The browser end-to-end test drives Debian's Chromium (/usr/bin/chromium). Install it when it is
# missing and we may (root, or sudo without a password); otherwise say how, and let the test fail
# with its own clear message.
set -euo pipefail
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "Chromium is missing: run 'sudo apt-get install -y chromium' (the browser test needs it)." >&2
    exit 0
  fi
fi
echo "Installing Debian's chromium for the browser test..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
