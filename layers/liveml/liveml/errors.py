"""The root of every error LiveML raises on purpose.

Each concern subclasses it in its own ``errors.py``; the API and the Step Functions ``Catch``
map them to answers in one place each, so a caller never sees a stack trace for bad input.
"""

from __future__ import annotations


class LiveMLError(Exception):
    """An expected failure with a message meant for a person."""

    #: HTTP status the API answers with when this error reaches it.
    http_status: int = 400
