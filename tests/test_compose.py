"""The container definition parses, runs the real servers, all six services and the web app,
pins every image and gives every container a health check. (No Docker engine runs here to
start it.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PINNED = re.compile(r"^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$")


def test_the_compose_file_pins_its_images_and_health_checks_every_container() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {
        "kafka",
        "mongo",
        "s3",
        "booking",
        "workflow",
        "render",
        "delivery",
        "maps",
        "gateway",
        "web",
    }
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["mongo"]["image"].startswith("mongo:")  # the real MongoDB in containers
    for name, service in services.items():
        assert PINNED.match(service["image"]), f"{name}: image {service['image']!r} is not pinned"
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
        assert test[0] in ("CMD", "CMD-SHELL"), f"{name}: health check {test!r} runs nothing"
    for name in ("booking", "workflow", "render", "delivery", "maps", "gateway", "web"):
        dockerfile = services[name]["build"]["dockerfile"]
        assert (REPO / dockerfile).is_file(), f"{name}: {dockerfile} is missing"
        assert f"studio-{name}" in (REPO / dockerfile).read_text()
        for dependency, condition in services[name]["depends_on"].items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
