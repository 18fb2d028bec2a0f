#!/usr/bin/env bash
# The tests start a real Prometheus and run promtool, from Debian's prometheus package. Install it
# when it is missing (root on Debian, as on this project's machines); otherwise say what to do.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's prometheus package (for prometheus and promtool)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  exit 0
fi
echo "the tests need prometheus and promtool: install Debian's prometheus package (apt-get install prometheus)" >&2
exit 1
