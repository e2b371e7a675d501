"""`make fuzz`: schemathesis against the gateway and every service, with a token per role.

The whole platform runs as processes (`infra/local/services.sh`, as in `tests/e2e`) on ports
18100-18107 with databases and Kafka topics of its own beside the test servers (`STUDIO_*` from
`.local/test/env`). A user per role is created through the gateway; then schemathesis sends
generated requests (valid and invalid) to every operation of the gateway's own OpenAPI and of each
service's OpenAPI as the gateway serves it (`/openapi/<service>.json`, server `/api/<service>`),
as the owner and as each role for what the policy table gives it, and checks that nothing answers
5xx and that every answer has a declared status code, content type and body schema.

    FUZZ_EXAMPLES   examples per operation and phase (default 20; the budget of the run)
    FUZZ_WORKERS    concurrent schemathesis workers (default 1: with more, hypothesis 6.170
                    sometimes fails inside with `AST constructor recursion depth mismatch`)
    FUZZ_PHASES     schemathesis phases (default examples,coverage,fuzzing)
    FUZZ_ONLY       run only the targets whose name contains this, e.g. `booking-owner`

Exit status 0 when every target passed. Each run's output is kept in `.local/fuzz/reports/`, the
platform's logs in `.local/fuzz/logs/`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from pymongo import MongoClient

from kit.testing import (
    platform_env,
    platform_logs,
    platform_ports,
    services_sh,
    write_platform_env,
)

REPO = Path(__file__).resolve().parents[1]
STATE = REPO / ".local" / "fuzz"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
PORTS = platform_ports(18100)
GATEWAY = f"http://127.0.0.1:{PORTS['gateway']}"
PASSWORD = "the fuzzing users' long password"
ROLES = ("owner", "staff", "marketing")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


@dataclass(frozen=True)
class Target:
    """One schemathesis run: an OpenAPI document (the gateway's, or a service's through the
    gateway), the role whose token every request carries, and schemathesis filter options."""

    document: str
    role: str
    filters: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.document}-{self.role}"

    @property
    def location(self) -> str:
        if self.document == "gateway":
            return f"{GATEWAY}/openapi.json"
        return f"{GATEWAY}/openapi/{self.document}.json"

    @property
    def base_url(self) -> str:
        return GATEWAY if self.document == "gateway" else f"{GATEWAY}/api/{self.document}"


# Schemathesis ORs its include filters, so "reads only" is said by excluding the writes.
READS_ONLY = tuple(f"--exclude-method={method}" for method in ("POST", "PUT", "PATCH", "DELETE"))

# What each role may use (gateway/src/gateway/access/policy.py): the owner everything; staff
# booking, workflow, render, delivery (and notify, fuzzed as the owner only); marketing maps and
# booking's clients read-only. Elsewhere a role gets 403, which the gateway's policy tests
# already cover, so it is not fuzzed.
TARGETS = (
    # Nothing is excluded: the gateway checks access tokens by signature alone, so the fuzzer
    # changing or deleting the staff and marketing users (it learns their emails from GET /users)
    # ends no later run; the owner cannot demote, disable or delete itself (409); and logout
    # revokes only refresh tokens the fuzzer made up.
    Target("gateway", "owner"),
    Target("gateway", "staff", ("--include-path", "/auth/me")),
    Target("gateway", "marketing", ("--include-path", "/auth/me")),
    *(Target(s, "owner") for s in ("booking", "workflow", "render", "delivery", "maps", "notify")),
    *(Target(s, "staff") for s in ("booking", "workflow", "render", "delivery")),
    Target("maps", "marketing"),
    Target("booking", "marketing", ("--include-path-regex", "^/clients", *READS_ONLY)),
)


def fuzz_env(unique: str) -> dict[str, str]:
    """The platform's own ports, databases and topics; an owner; tokens that outlive the run
    (the users log in once, before the fuzzer's logins use up the login limits)."""
    return platform_env(f"fuzz{unique}", PORTS) | {
        "GATEWAY_OWNER_EMAIL": "owner@fuzz.studio.test",
        "GATEWAY_OWNER_PASSWORD": PASSWORD,
        "GATEWAY_ACCESS_TOKEN_SECONDS": "7200",
        "STUDIO_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def running_platform(env: dict[str, str]) -> Iterator[None]:
    """The platform started from `STATE`, stopped and its databases dropped afterwards."""
    services_sh("stop", STATE, timeout=120)  # whatever an interrupted run left behind
    for log in (STATE / "logs").glob("*.log"):
        log.unlink()
    write_platform_env(STATE, env)
    started = services_sh("start", STATE, timeout=240)
    try:
        if started.returncode != 0:
            logs = platform_logs(STATE)
            raise SystemExit(f"the platform did not start:\n{started.stderr}\n{logs}")
        yield
    finally:
        services_sh("stop", STATE, timeout=120)
        with MongoClient(env["STUDIO_MONGO_URL"]) as mongo:
            for service in PORTS:
                mongo.drop_database(env[f"{service.upper()}_DATABASE"])


def tokens(owner_email: str) -> dict[str, str]:
    """An access token per role: the configured owner's, and a new staff and marketing user's."""
    with httpx.Client(base_url=GATEWAY, timeout=30) as gateway:

        def login(email: str) -> str:
            answer = gateway.post("/auth/login", json={"email": email, "password": PASSWORD})
            answer.raise_for_status()
            token: str = answer.json()["access_token"]
            return token

        found = {"owner": login(owner_email)}
        for role in ROLES[1:]:
            email = f"{role}@fuzz.studio.test"
            created = gateway.post(
                "/users",
                json={"email": email, "password": PASSWORD, "role": role},
                headers={"Authorization": f"Bearer {found['owner']}"},
            )
            created.raise_for_status()
            found[role] = login(email)
    return found


def schemathesis(target: Target, token: str) -> int:
    """One schemathesis run of `target`; its exit status."""
    command = [
        str(SCHEMATHESIS),
        "run",
        target.location,
        "--url",
        target.base_url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing"),
        "--max-examples",
        os.environ.get("FUZZ_EXAMPLES", "20"),
        "--workers",
        os.environ.get("FUZZ_WORKERS", "1"),
        "--request-timeout",
        "60",
        "--generation-database",
        "none",
        "--no-color",
        *target.filters,
    ]
    print(f"\n=== {target.name}: {target.location} as {target.role}", flush=True)
    (STATE / "reports").mkdir(parents=True, exist_ok=True)
    with (STATE / "reports" / f"{target.name}.txt").open("w") as report:
        # Run in STATE: schemathesis keeps its replay data in ./.schemathesis.
        run = subprocess.Popen(
            command, cwd=STATE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert run.stdout is not None
        for line in run.stdout:
            sys.stdout.write(line)
            report.write(line)
        return run.wait()


def main() -> int:
    only = os.environ.get("FUZZ_ONLY", "")
    targets = [t for t in TARGETS if only in t.name]
    env = fuzz_env(uuid.uuid4().hex[:8])
    results: list[tuple[Target, int, float]] = []
    with running_platform(env):
        token_of = tokens(env["GATEWAY_OWNER_EMAIL"])
        for target in targets:
            began = time.monotonic()
            status = schemathesis(target, token_of[target.role])
            results.append((target, status, time.monotonic() - began))
    print("\n=== make fuzz")
    for target, status, seconds in results:
        print(f"{target.name:<20} {'passed' if status == 0 else 'FAILED':<7} {seconds:6.0f} s")
    failed = [target.name for target, status, _ in results if status != 0]
    print(f"platform logs: {STATE / 'logs'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
