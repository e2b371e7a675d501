"""The studio's web app: screens rendered as HTML, every read and write through the gateway."""
