#!/usr/bin/env bash
# The network lab (tests/network/) needs nftables (NAT routers, faults), coturn (the TURN relay its
# tests start) and iproute2 (namespaces, veth). Install them when missing and we may; otherwise say
# how, and let the lab tests fail with their own one-line reason.
set -euo pipefail
missing=()
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
command -v turnserver >/dev/null 2>&1 || [ -x /usr/bin/turnserver ] || missing+=(coturn)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /usr/bin/ip ] || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0
source "$(dirname "$0")/_apt.sh"
apt_install "the network lab needs them" "${missing[@]}" || exit 0
# Debian starts coturn as a service on install; the lab starts its own, inside a namespace.
$SUDO systemctl disable --now coturn >/dev/null 2>&1 || true
echo "network lab tools installed: ${missing[*]}"
