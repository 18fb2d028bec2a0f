#!/usr/bin/env bash
# A test has VictoriaMetrics scrape the package's text format and reads the values back, with
# Debian's victoria-metrics package. Install it when it is missing (root on Debian, as on this
# project's machines); otherwise say what to do. The package's systemd unit is not used: the test
# starts its own server on a free port.
set -euo pipefail
if command -v victoria-metrics >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's victoria-metrics package" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 victoria-metrics >/dev/null
  exit 0
fi
echo "the tests need victoria-metrics: install Debian's victoria-metrics package (apt-get install victoria-metrics)" >&2
exit 1
