"""What the container definitions are checked against: the compose file as read, and the
processes `make run` starts (tests/test_compose.py, tests/test_kubernetes.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
APIS = ("booking", "workflow", "render", "delivery", "maps", "notify", "gateway", "web")


def compose_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def make_run_processes() -> set[str]:
    """The modules `infra/local/services.sh` starts: each service, and its consumers/worker."""
    script = (REPO / "infra" / "local" / "services.sh").read_text()
    listed = re.search(r"^all_services=\(([^)]*)\)", script, re.MULTILINE)
    assert listed is not None, "services.sh no longer lists all_services"
    modules = set()
    for service in listed.group(1).split():
        modules.add(service)
        src = REPO / (service if service in ("gateway", "web") else f"services/{service}")
        for background in ("consumers", "worker"):
            if (src / "src" / service / f"{background}.py").is_file():
                modules.add(f"{service}.{background}")
    return modules


def module_of(name: str, service: dict[str, Any]) -> str:
    """The module a compose service runs."""
    command = service.get("command")
    if command:
        assert command[:2] == ["python", "-m"], f"{name}: command {command!r}"
        return str(command[2])
    return name  # an API: the image's own CMD, `python -m <name>`
