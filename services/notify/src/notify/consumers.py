"""The notify consumer process: booking's, workflow's and delivery's events into the contact
projection and the schedule, and the dispatcher that sends what falls due.

    python -m notify.consumers

Every process of it may run at once: planning is idempotent and each action is claimed
before it is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.app import Platform
from kit.consumers import run_consumer_process
from kit.events.consumer import Subscription
from notify.bootstrap import services_of
from notify.config import NotifySettings
from notify.main import service_spec


def subscriptions(platform: Platform) -> Sequence[Subscription[Any]]:
    return services_of(platform).handlers.subscriptions()


def main() -> None:
    settings = NotifySettings()
    run_consumer_process(
        settings,
        service_spec(api=False),
        group_id=settings.consumer_group,
        topics=[settings.booking_topic, settings.workflow_topic, settings.delivery_topic],
        subscriptions=subscriptions,
    )


if __name__ == "__main__":
    main()
