"""Clients: see the README of the booking service."""

from booking.features import Feature

feature = Feature()
