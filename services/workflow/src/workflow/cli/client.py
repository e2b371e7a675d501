"""The CLI's connection to the platform: saved credentials, the API base, authenticated calls."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(30.0, read=600.0, write=600.0)


def config_dir() -> Path:
    base = os.environ.get("STUDIO_CONFIG_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "studio"


def credentials_file() -> Path:
    return config_dir() / "credentials.json"


@dataclass
class Credentials:
    gateway: str
    access_token: str | None = None
    refresh_token: str | None = None

    def save(self) -> None:
        path = credentials_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(self.__dict__))

    @classmethod
    def load(cls) -> Credentials | None:
        path = credentials_file()
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        try:
            body = response.json()
            message = body.get("message") or body.get("error") or response.text
        except ValueError:
            message = response.text
        super().__init__(f"{response.status_code}: {message}"[:2000])
        self.status_code = response.status_code


class Api:
    """Calls on the workflow API, through the gateway (`/api/workflow/workflow`) or, with
    `STUDIO_API`, straight at a workflow base URL."""

    def __init__(self, credentials: Credentials | None, base: str | None = None) -> None:
        self._credentials = credentials
        explicit = base or os.environ.get("STUDIO_API")
        if explicit:
            self.base = explicit.rstrip("/")
        elif credentials is not None:
            self.base = credentials.gateway.rstrip("/") + "/api/workflow/workflow"
        else:
            raise RuntimeError("Not logged in: run `studio login` first (or set STUDIO_API).")
        self._http = httpx.Client(timeout=TIMEOUT)

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        token = self._credentials.access_token if self._credentials else None
        return {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, self.base + path, headers=self._headers(), **kwargs)
        if response.status_code == 401 and self._refresh():
            if "files" in kwargs:
                for _, (_, body, _) in kwargs["files"]:
                    body.seek(0)
            response = self._http.request(
                method, self.base + path, headers=self._headers(), **kwargs
            )
        if response.status_code >= 400:
            raise ApiError(response)
        return response.json() if response.content else None

    def _refresh(self) -> bool:
        credentials = self._credentials
        if credentials is None or not credentials.refresh_token:
            return False
        response = self._http.post(
            credentials.gateway.rstrip("/") + "/auth/refresh",
            json={"refresh_token": credentials.refresh_token},
        )
        if response.status_code != 200:
            return False
        pair = response.json()
        credentials.access_token = pair["access_token"]
        credentials.refresh_token = pair["refresh_token"]
        credentials.save()
        return True


def login(gateway: str, email: str, password: str) -> Credentials:
    response = httpx.post(
        gateway.rstrip("/") + "/auth/login",
        json={"email": email, "password": password},
        timeout=TIMEOUT,
    )
    if response.status_code != 200:
        raise ApiError(response)
    pair = response.json()
    credentials = Credentials(gateway, pair["access_token"], pair["refresh_token"])
    credentials.save()
    return credentials
