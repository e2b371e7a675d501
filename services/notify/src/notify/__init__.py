"""The notify service: the studio's automatic emails, SMS, calls and tasks."""
