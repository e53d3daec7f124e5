#!/usr/bin/env bash
# Copy the front-end libraries into static/vendor/, so that pages load no
# asset from outside: the registry runs on government networks that may be
# offline. Packages come from the npm registry at pinned versions; run again
# after changing a version below. Usage: scripts/vendor_assets.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/static/vendor"
STAMP="$VENDOR/VERSIONS"

# package@version, then "file in the package => folder under static/vendor/".
PACKAGES=(
  "bootstrap@5.3.8"
  "htmx.org@2.0.8"
  "chart.js@4.5.1"
  "d3-array@3.2.4"
  "d3-geo@3.1.1"
  "topojson-client@3.1.0"
  "world-atlas@2.0.2"
)
FILES=(
  "bootstrap:dist/css/bootstrap.min.css=>bootstrap"
  "bootstrap:dist/js/bootstrap.bundle.min.js=>bootstrap"
  "bootstrap:LICENSE=>bootstrap"
  "htmx.org:dist/htmx.min.js=>htmx"
  "htmx.org:LICENSE=>htmx"
  "chart.js:dist/chart.umd.js=>chartjs"
  "chart.js:LICENSE.md=>chartjs"
  "d3-array:dist/d3-array.min.js=>d3"
  "d3-array:LICENSE=>d3/LICENSE.d3-array"
  "d3-geo:dist/d3-geo.min.js=>d3"
  "d3-geo:LICENSE=>d3/LICENSE.d3-geo"
  "topojson-client:dist/topojson-client.min.js=>topojson"
  "topojson-client:LICENSE=>topojson"
  "world-atlas:countries-110m.json=>world-atlas"
  "world-atlas:LICENSE=>world-atlas"
)

die() {
  echo "vendor_assets: $*" >&2
  exit 1
}

wanted_versions() {
  printf '%s\n' "${PACKAGES[@]}"
}

all_files_present() {
  local entry source target
  for entry in "${FILES[@]}"; do
    source="${entry#*:}"
    source="${source%%=>*}"
    target="${entry##*=>}"
    if [[ "$target" != */LICENSE* ]]; then
      target="$target/$(basename "$source")"
    fi
    [[ -s "$VENDOR/$target" ]] || return 1
  done
}

if [[ "${1:-}" != "--force" && -f "$STAMP" ]] \
    && [[ "$(cat "$STAMP")" == "$(wanted_versions)" ]] && all_files_present; then
  echo "vendor_assets: static/vendor/ is up to date"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is not installed. Install Node.js and npm" \
  "(Debian: apt-get install -y npm), then run this script again."

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "vendor_assets: fetching ${#PACKAGES[@]} packages with npm pack"
(cd "$WORK" && npm pack --silent "${PACKAGES[@]}" >/dev/null) \
  || die "npm pack failed; is the npm registry reachable?"

for spec in "${PACKAGES[@]}"; do
  name="${spec%@*}"
  mkdir -p "$WORK/$name"
  tarball="$WORK/$name-${spec##*@}.tgz"
  [[ -f "$tarball" ]] || die "npm pack did not produce a tarball for $spec"
  tar -xzf "$tarball" -C "$WORK/$name" --strip-components=1
done

rm -rf "$VENDOR"
for entry in "${FILES[@]}"; do
  name="${entry%%:*}"
  source="${entry#*:}"
  source="${source%%=>*}"
  target="${entry##*=>}"
  [[ -f "$WORK/$name/$source" ]] || die "$name has no file $source"
  if [[ "$target" == */LICENSE* ]]; then
    mkdir -p "$VENDOR/$(dirname "$target")"
    cp "$WORK/$name/$source" "$VENDOR/$target"
  else
    mkdir -p "$VENDOR/$target"
    cp "$WORK/$name/$source" "$VENDOR/$target/"
  fi
done
wanted_versions >"$STAMP"
echo "vendor_assets: static/vendor/ now holds:"
sed 's/^/  /' "$STAMP"
