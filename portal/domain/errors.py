class Rejected(Exception):
    """A refusal the user can act on: the message goes beside `field`, the input is kept."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


class NotAllowed(Exception):
    """Someone else's object, or a role that may not act on it."""
