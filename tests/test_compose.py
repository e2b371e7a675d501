"""The container definition would really start (no Docker engine runs here to start it, so it is
read): the real servers, every API, every process `make run` starts beside them (consumers,
render workers), the web app; pinned images, a health check each; secrets only from the env
file, whose committed example names every one; the services on an internal network with only
the gateway, the web app and S3 published."""

from __future__ import annotations

import re

from deployment_layout import APIS, REPO, make_run_processes, module_of
from deployment_layout import compose_file as _compose

PINNED = re.compile(r"^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$")
PUBLISHED = {"gateway", "web", "s3"}
REQUIRED = re.compile(r"\$\{([A-Z0-9_]+):\?")
OPTIONAL = re.compile(r"\$\{([A-Z0-9_]+):-")
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|_KEY$)")


def test_the_compose_file_pins_its_images_and_health_checks_every_container() -> None:
    services = _compose()["services"]
    assert {"kafka", "mongo", "s3", *APIS} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["mongo"]["image"].startswith("mongo:")  # the real MongoDB in containers
    for name, service in services.items():
        assert PINNED.match(service["image"]), f"{name}: image {service['image']!r} is not pinned"
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
        assert test[0] in ("CMD", "CMD-SHELL"), f"{name}: health check {test!r} runs nothing"
    for name in APIS:
        dockerfile = services[name]["build"]["dockerfile"]
        assert (REPO / dockerfile).is_file(), f"{name}: {dockerfile} is missing"
        assert f"studio-{name}" in (REPO / dockerfile).read_text()
        assert f'python", "-m", "{name}"' in (REPO / dockerfile).read_text()
        for dependency, condition in services[name]["depends_on"].items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"


def test_every_process_make_run_starts_has_a_container_of_the_same_image() -> None:
    services = _compose()["services"]
    ours = {name: s for name, s in services.items() if s["image"].startswith("studio/")}
    by_module = {module_of(name, s): (name, s) for name, s in ours.items()}
    expected = make_run_processes()

    assert {"booking.consumers", "render.worker", "web"} <= expected  # the scan found them
    missing = expected - set(by_module)
    assert missing == set(), f"make run starts these, compose does not: {sorted(missing)}"
    for module in expected - set(APIS):
        name, service = by_module[module]
        owner = module.split(".")[0]
        assert service["image"] == services[owner]["image"], f"{name} runs {owner}'s code"
        # A background process serves no HTTP: its health is its heartbeat file.
        assert service["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "kit.heartbeat"]
        assert service["environment"]["STUDIO_HEARTBEAT_FILE"] == service["healthcheck"]["test"][4]
        assert service.get("restart") == "unless-stopped", name


def test_render_workers_scale_without_a_fixed_name_or_port() -> None:
    worker = _compose()["services"]["render-worker"]

    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["environment"]["RENDER_WORKFLOW_URL"] == "http://workflow:8002"


def test_only_the_gateway_the_web_app_and_s3_are_published_and_the_rest_is_internal() -> None:
    compose = _compose()
    services = compose["services"]
    networks = compose["networks"]

    assert networks["internal"]["internal"] is True
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == PUBLISHED
    for name in published:
        for port in services[name]["ports"]:
            assert port.startswith("127.0.0.1:"), f"{name} is published beyond loopback: {port}"
    for name, service in services.items():
        assert "internal" in service["networks"], f"{name} is not on the internal network"
        if name not in PUBLISHED:
            assert "edge" not in service["networks"], f"{name} is on the published network"
    # The gateway believes the web app's X-Forwarded-For: the internal network's addresses.
    subnet = networks["internal"]["ipam"]["config"][0]["subnet"]
    assert services["gateway"]["environment"]["GATEWAY_TRUSTED_PROXIES"] == subnet
    # Peers are found by their service names, never by loopback addresses.
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if key.endswith("_URL") and "PUBLIC" not in key and isinstance(value, str):
                assert "127.0.0.1" not in value, f"{name}: {key}={value}"


def test_every_secret_comes_from_the_env_file_whose_example_names_it() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    example = (REPO / "compose.env.example").read_text()
    named = set(re.findall(r"^([A-Z0-9_]+)=", example, re.MULTILINE))
    services = _compose()["services"]

    required = set(REQUIRED.findall(text))
    assert {
        "GATEWAY_JWT_SECRET",
        "BOOKING_LINK_SECRET",
        "STUDIO_S3_SECRET_KEY",
        "STUDIO_INTERNAL_SECRET",
    } <= required
    assert required <= named, f"not in compose.env.example: {sorted(required - named)}"
    assert set(OPTIONAL.findall(text)) <= named
    for line in example.splitlines():
        if SECRET_NAME.search(line.split("=", 1)[0]) and "=" in line:
            assert line.endswith("="), f"the example holds a secret's value: {line}"
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), f"{name}: {key} is written in compose"
    assert "compose.env" in (REPO / ".gitignore").read_text().split()
