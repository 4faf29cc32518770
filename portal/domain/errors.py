class Rejected(Exception):
    """A refusal the user can act on: the message goes beside `field`, the input is kept."""

    def __init__(self, field: str, message: str, status: int = 422, reason: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status
        self.reason = reason  # for the log: length, rate, duplicate, words, url, account_state, ...
        self.retry_after: int | None = None


class NotAllowed(Exception):
    """Someone else's object, or a role that may not act on it."""
