#!/usr/bin/env bash
# The map pages' browser libraries (Leaflet, Leaflet.markercluster) from the npm registry at the
# versions pinned in package-lock.json, copied into src/maps/static/vendor, which the maps
# service serves under /maps/assets/ (no CDN at run time). Leaflet.heat comes with folium's
# Python package. Run by `make install`; does nothing when the copy matches the lock file.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vendor="$here/src/maps/static/vendor"
stamp="$vendor/.installed-$(sha256sum "$here/package-lock.json" | cut -c1-12)"
[ -f "$stamp" ] && exit 0
command -v npm >/dev/null || { echo "vendor-assets.sh: npm is not installed; the map pages' libraries come from the npm registry." >&2; exit 1; }
cache=${STUDIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/studio-platform}
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error --cache "$cache/npm-cache")
rm -rf "$vendor" && mkdir -p "$vendor/leaflet/images" "$vendor/markercluster"
cp "$here"/node_modules/leaflet/dist/{leaflet.js,leaflet.css} "$vendor/leaflet/"
cp "$here"/node_modules/leaflet/dist/images/*.png "$vendor/leaflet/images/"
cp "$here"/node_modules/leaflet.markercluster/dist/{leaflet.markercluster.js,MarkerCluster.css,MarkerCluster.Default.css} "$vendor/markercluster/"
touch "$stamp"
