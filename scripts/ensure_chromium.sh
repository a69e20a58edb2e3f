#!/usr/bin/env bash
# The browser end-to-end test drives Debian's Chromium (/usr/bin/chromium). Install it when it is
# missing and we may (root, or sudo without a password); otherwise say how, and let the test fail
# with its own clear message.
set -euo pipefail
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && exit 0
source "$(dirname "$0")/_apt.sh"
apt_install "the browser tests need Chromium" chromium || exit 0
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
