#!/usr/bin/env bash
# The network lab (tests/network/) needs nftables (NAT routers, faults) and coturn (the TURN relay
# its tests start). Install them when missing and we may (root, or sudo without a password);
# otherwise say how, and let the lab tests fail with their own one-line reason.
set -euo pipefail
missing=()
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
command -v turnserver >/dev/null 2>&1 || [ -x /usr/bin/turnserver ] || missing+=(coturn)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /usr/bin/ip ] || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "The network lab needs: sudo apt-get install -y ${missing[*]}" >&2
    exit 0
  fi
fi
echo "Installing ${missing[*]} for the network lab..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts coturn as a service on install; the lab starts its own, inside a namespace.
$SUDO systemctl disable --now coturn >/dev/null 2>&1 || true
echo "network lab tools: $(nft --version 2>/dev/null), $(turnserver -h 2>&1 | grep -m1 -o 'Version Coturn-[^ ]*' || echo coturn)"
