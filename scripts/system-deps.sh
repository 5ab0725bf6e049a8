#!/usr/bin/env bash
# System packages the tests need (Debian): installed when missing, as root, quietly.
set -euo pipefail
needed=()
command -v bwrap >/dev/null 2>&1 || needed+=(bubblewrap)
[ -x /usr/bin/chromium ] || needed+=(chromium)  # the playground's browser test
if [ ${#needed[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: please install: ${needed[*]} (apt-get install ${needed[*]})" >&2
  exit 0
fi
echo "system-deps: installing ${needed[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
