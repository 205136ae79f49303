"""The one error type of the server, with the status codes TF Serving gives for each kind.

Handlers raise ``ServingError(message, code)``; REST answers ``{"error": message}`` with the
HTTP status of the code, gRPC aborts with the code itself. The codes are gRPC's canonical
names, as TF Serving uses them on both of its APIs.
"""

# gRPC code → HTTP status, as TF Serving's REST layer maps them. Overload is the one
# exception: TF Serving's batch queue answers UNAVAILABLE (HTTP 503); DESIGN.md §11 asks for
# RESOURCE_EXHAUSTED on gRPC, and REST keeps the 503 with a Retry-After.
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "NOT_FOUND": 404,
    "UNIMPLEMENTED": 501,
    "RESOURCE_EXHAUSTED": 503,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
}


class ServingError(Exception):
    """A request the server refuses or cannot answer.

    Args:
      message: what went wrong and, where it helps, what to do about it.
      code: the gRPC status code name (``INVALID_ARGUMENT``, ``NOT_FOUND``, ...).
      http_status: the REST status when it is not the code's usual one (405, 413).
    """

    def __init__(self, message, code="INVALID_ARGUMENT", http_status=None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status or HTTP_STATUS.get(code, 500)


class Overloaded(ServingError):
    """The batch queue is full: the request is refused at once, to be retried later."""

    def __init__(self, message):
        super().__init__(message, "RESOURCE_EXHAUSTED")
