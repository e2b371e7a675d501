"""Cancellations: the deposit policy on a cancellation, the cut-off of clients' links, and
reopening a session cancelled by mistake."""

from booking.cancellations.router import router
from booking.features import Feature

feature = Feature(routers=[router])
