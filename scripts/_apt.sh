# Sourced by the ensure_*.sh setup steps of `npm test`.
# apt_install REASON PACKAGE...: installs Debian packages when we may (root, or sudo without a
# password) and sets SUDO for follow-up commands; otherwise says how, and returns 1 (the tests that
# need the packages then fail with their own clear message).
apt_install() {
  local reason="$1"
  shift
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "$reason: run 'sudo apt-get install -y $*'" >&2
      return 1
    fi
  fi
  echo "Installing $* ($reason)..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
