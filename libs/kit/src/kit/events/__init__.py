"""Events between services: CloudEvents-named envelope, typed contracts, outbox, relay, consumer."""
