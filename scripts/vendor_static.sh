#!/usr/bin/env bash
# Re-create static/vendor/ from the published npm packages (no CDN at run time).
#
# Usage: scripts/vendor_static.sh
#
# Fetches each package with `npm pack name@version` into a temporary directory
# (never inside the repository), checks the tarball's sha256 against the value
# recorded below, and copies only the built files we serve into
# static/vendor/<name>-<version>/. See static/vendor/README.md.
#
# The only change made to upstream files: trailing `sourceMappingURL` comments
# are removed from the minified CSS/JS, because the .map files are not vendored
# (they would 404 in browser devtools and make Django's manifest static
# storage fail in collectstatic).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

HTMX_VERSION=2.0.11
TABLER_VERSION=1.6.1
ECHARTS_VERSION=6.1.0
TOMSELECT_VERSION=2.6.2

# name@version  tarball-file  sha256
PACKAGES=(
  "htmx.org@$HTMX_VERSION htmx.org-$HTMX_VERSION.tgz 165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e"
  "@tabler/core@$TABLER_VERSION tabler-core-$TABLER_VERSION.tgz d02d679e51f6c179b21f035e154c13cdcb2ae8b18579e56ea606408ba7fc7a87"
  "echarts@$ECHARTS_VERSION echarts-$ECHARTS_VERSION.tgz 681aff88cc1038c3fa941a3a53d1b177a52250b05335efc607d6105ae13be481"
  "tom-select@$TOMSELECT_VERSION tom-select-$TOMSELECT_VERSION.tgz 91e3a429b42d9163e8ade96f3603109d3b7faa7f9b1a5259fa30f8f4b162415a"
)

for entry in "${PACKAGES[@]}"; do
  read -r spec tgz sum <<<"$entry"
  (cd "$WORK" && npm pack --silent "$spec" >/dev/null)
  echo "$sum  $WORK/$tgz" | sha256sum -c --quiet - || {
    echo "checksum mismatch for $spec" >&2; exit 1; }
  mkdir -p "$WORK/${tgz%.tgz}"
  tar xzf "$WORK/$tgz" -C "$WORK/${tgz%.tgz}"
done

strip_maps() {  # remove sourceMappingURL comments (maps are not vendored)
  sed -i -E -e 's#/\*\# sourceMappingURL=[^*]*\*/##g' -e '/^\/\/# sourceMappingURL=/d' "$@"
}

# --- htmx -------------------------------------------------------------------
src="$WORK/htmx.org-$HTMX_VERSION/package"
out="$DEST/htmx-$HTMX_VERSION"
rm -rf "$out"; mkdir -p "$out"
cp "$src/dist/htmx.min.js" "$src/LICENSE" "$out/"

# --- Tabler -----------------------------------------------------------------
src="$WORK/tabler-core-$TABLER_VERSION/package"
out="$DEST/tabler-$TABLER_VERSION"
rm -rf "$out"; mkdir -p "$out/dist/css" "$out/dist/js"
cp "$src/dist/css/tabler.min.css" "$src/dist/css/tabler-vendors.min.css" "$out/dist/css/"
cp "$src/dist/js/tabler.min.js" "$out/dist/js/"
strip_maps "$out"/dist/css/*.css "$out"/dist/js/*.js
# The npm package ships no LICENSE file; package.json says "MIT" and the file
# banners say "Copyright 2018-2026 The Tabler Authors / codecalm.net Paweł Kuna".
cat >"$out/LICENSE" <<'LIC'
MIT License

Copyright (c) 2018-2026 The Tabler Authors
Copyright (c) 2018-2026 codecalm.net Paweł Kuna

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LIC

# --- ECharts ----------------------------------------------------------------
src="$WORK/echarts-$ECHARTS_VERSION/package"
out="$DEST/echarts-$ECHARTS_VERSION"
rm -rf "$out"; mkdir -p "$out/licenses"
cp "$src/dist/echarts.min.js" "$src/LICENSE" "$src/NOTICE" "$out/"
cp "$src/licenses/LICENSE-d3" "$out/licenses/"

# --- tom-select -------------------------------------------------------------
src="$WORK/tom-select-$TOMSELECT_VERSION/package"
out="$DEST/tom-select-$TOMSELECT_VERSION"
rm -rf "$out"; mkdir -p "$out/css"
cp "$src/dist/js/tom-select.complete.min.js" "$src/LICENSE" "$out/"
cp "$src/dist/css/tom-select.bootstrap5.min.css" "$out/css/"
strip_maps "$out/tom-select.complete.min.js" "$out/css/tom-select.bootstrap5.min.css"

echo "vendored into $DEST:"
(cd "$DEST" && find . -type f ! -name README.md | sort)
