"""Clients: records with duplicate checks, soft deletion, merging, CSV/.xlsx import and export."""

from booking.clients.repository import CLIENTS, INDEXES
from booking.clients.router import router
from booking.features import Feature

feature = Feature(routers=[router], indexes=INDEXES, outbox_collections=[CLIENTS])
