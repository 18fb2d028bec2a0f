#!/usr/bin/env bash
# The exposition tests parse the package's answers with Python's prometheus_client (its OpenMetrics
# and text parsers), from Debian's python3-prometheus-client for Debian's /usr/bin/python3. Install
# it when it is missing (root on Debian, as on this project's machines); otherwise say what to do.
set -euo pipefail
PYTHON=${SCANOPY_TEST_PYTHON:-/usr/bin/python3}
if [ -x "$PYTHON" ] && "$PYTHON" -c 'import prometheus_client' >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's python3-prometheus-client package" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 python3-prometheus-client >/dev/null
  exit 0
fi
echo "the tests need Python's prometheus_client for $PYTHON: install Debian's python3-prometheus-client package" >&2
exit 1
