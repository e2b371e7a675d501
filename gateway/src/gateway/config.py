"""Settings of the gateway (env prefix `GATEWAY_`; shared servers from `STUDIO_*`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    service: str = "gateway"
    port: int = 8000
    database: str = "gateway"
    booking_url: str = "http://127.0.0.1:8001"
    workflow_url: str = "http://127.0.0.1:8002"
    render_url: str = "http://127.0.0.1:8003"
    delivery_url: str = "http://127.0.0.1:8004"
    maps_url: str = "http://127.0.0.1:8005"

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "booking": self.booking_url,
            "workflow": self.workflow_url,
            "render": self.render_url,
            "delivery": self.delivery_url,
            "maps": self.maps_url,
        }
