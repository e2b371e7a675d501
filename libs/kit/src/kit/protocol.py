"""uvicorn's h11 protocol, with its own 400 (a request it cannot parse, or a request line and
headers over `h11_max_incomplete_event_size`) in the platform's one error body, with a request id.

Such a request never reaches the app, so no middleware can answer it; uvicorn's own answer is
the plain text "Invalid HTTP request received.".
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from kit.logging import REQUEST_ID_HEADER, new_request_id


class StudioH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        request_id = new_request_id()
        body = json.dumps(
            {
                "error": "bad_request",
                "message": (
                    "The request cannot be read: it is malformed, or its request line and "
                    "headers are too long."
                ),
                "detail": None,
                "request_id": request_id,
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
            (b"connection", b"close"),
        ]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers)))
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
