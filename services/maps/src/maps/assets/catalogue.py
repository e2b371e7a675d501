"""The browser libraries of the map pages, served by the maps service itself (no public CDN:
maps work in a studio without internet, and no third party sees who looks at them).

Leaflet and Leaflet.markercluster are copied from npm at the versions `package-lock.json` pins
(`vendor-assets.sh`, run by `make install`); Leaflet.heat is the build folium ships in its
Python package. A map page names them relative to itself (`../assets/...` from
`/maps/{id}/html`), so they resolve wherever the page is served: the service, the gateway
(`/api/maps/maps/assets/...`), or an app that serves `/maps/{id}/...` and `/maps/assets/...`.
"""

from __future__ import annotations

from pathlib import Path

import folium

VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor"
_FOLIUM_TEMPLATES = Path(folium.__file__).resolve().parent / "templates"

# The public name of each file (after /maps/assets/) and where it is on disk.
FILES: dict[str, Path] = {
    "leaflet/leaflet.js": VENDOR / "leaflet" / "leaflet.js",
    "leaflet/leaflet.css": VENDOR / "leaflet" / "leaflet.css",
    **{
        f"leaflet/images/{name}": VENDOR / "leaflet" / "images" / name
        for name in (
            "layers.png",
            "layers-2x.png",
            "marker-icon.png",
            "marker-icon-2x.png",
            "marker-shadow.png",
        )
    },
    "markercluster/leaflet.markercluster.js": VENDOR / "markercluster" / "leaflet.markercluster.js",
    "markercluster/MarkerCluster.css": VENDOR / "markercluster" / "MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css": VENDOR
    / "markercluster"
    / "MarkerCluster.Default.css",
    "leaflet-heat/leaflet-heat.min.js": _FOLIUM_TEMPLATES / "leaflet_heat.min.js",
}

_FROM_PAGE = "../assets/"


def url(name: str) -> str:
    """`name`'s URL as a map page names it (relative to `/maps/{id}/html`)."""
    if name not in FILES:
        raise KeyError(f"no map asset named {name!r}")
    return _FROM_PAGE + name


# folium's resource lists, (name, url), as its Map and plugins take them.
MAP_JS = [("leaflet", url("leaflet/leaflet.js"))]
MAP_CSS = [("leaflet_css", url("leaflet/leaflet.css"))]
HEAT_JS = [("leaflet-heat.js", url("leaflet-heat/leaflet-heat.min.js"))]
CLUSTER_JS = [("markerclusterjs", url("markercluster/leaflet.markercluster.js"))]
CLUSTER_CSS = [
    ("markerclustercss", url("markercluster/MarkerCluster.css")),
    ("markerclusterdefaultcss", url("markercluster/MarkerCluster.Default.css")),
]


def missing() -> list[str]:
    """The files not on disk (vendor-assets.sh not run)."""
    return [name for name, path in FILES.items() if not path.is_file()]
