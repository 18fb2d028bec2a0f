#!/usr/bin/env bash
# The HTTPS and HTTP/2-over-TLS tests make a throw-away certificate with openssl. Install Debian's
# openssl package when it is missing (root on Debian, as on this project's machines); otherwise
# say what to do.
set -euo pipefail
if command -v openssl >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's openssl package (for the TLS tests' certificate)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
  exit 0
fi
echo "the tests need openssl: install Debian's openssl package (apt-get install openssl)" >&2
exit 1
