"""Online booking: public routes to book (with a deposit hold) and to cancel or reschedule
through signed links."""

from booking.features import Feature
from booking.online.router import router

feature = Feature(routers=[router])
