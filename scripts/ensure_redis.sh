#!/usr/bin/env bash
# The cluster tests (tests/signaling/cluster_redis_test.ts) start their own redis-server on a
# loopback port. Install Debian's redis-server when missing and we may; otherwise say how, and let
# those tests fail with their own one-line reason.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
source "$(dirname "$0")/_apt.sh"
apt_install "the cluster tests need it" redis-server || exit 0
# Debian starts redis as a service on install; the tests start their own, on ports of their own.
$SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
echo "redis-server installed"
