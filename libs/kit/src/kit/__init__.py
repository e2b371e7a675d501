"""The one shared package of the studio platform.

It imports nothing from the services: settings, errors, logging, MongoDB, S3 and events
(envelope, per-producer contracts, outbox, relay, consumer runner) live here so every
service builds on the same pieces.
"""
