"""Settings of the web app (env prefix `WEB_`; the MongoDB server from `STUDIO_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", env_file=".env", extra="ignore")

    service: str = "web"
    port: int = 8080
    # Browser sessions only: the web app keeps no business data.
    database: str = "web"
    gateway_url: str = "http://127.0.0.1:8000"
    # Where labs and clients reach the gateway (shown for labs' callbacks); empty: gateway_url.
    public_gateway_url: str = ""
    # The address the studio opens (printed by `make run`, used in links the app shows).
    public_url: str = "http://127.0.0.1:8080"
    # A browser session ends after this long without a request, and after `session_days` at most.
    session_idle_hours: int = 12
    session_days: int = 7
    # Cookies are `Secure` when the app is served over HTTPS; None: only in production.
    cookie_secure: bool | None = None
    gateway_timeout_seconds: float = 30.0

    @property
    def gateway_for_others(self) -> str:
        return (self.public_gateway_url or self.gateway_url).rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.infra.environment == "production"
