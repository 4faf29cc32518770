from __future__ import annotations

from collections.abc import Sequence


class Rejected(Exception):
    """A refusal the user can act on: the message goes beside `field`, the input is kept."""

    def __init__(self, field: str, message: str, status: int = 422, reason: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status
        self.reason = reason  # for the log: length, rate, duplicate, words, url, account_state, ...
        self.retry_after: int | None = None
        self.evasion = False  # the text refused was disguised (規避審核): P25 charges more

    def each(self) -> tuple[Rejected, ...]:
        """Every refusal this one stands for, each beside its own field."""
        return (self,)


class Refusals(Rejected):
    """Several refusals of one form, found in one go, so the reader fixes them all at once instead of
    meeting one per try. The first gives `field`, `message` and `reason`; the status is the first that
    is not 422 (a blacklisted number's 403 stands beside a refused nickname), else 422."""

    def __init__(self, refusals: Sequence[Rejected]) -> None:
        if not refusals:
            raise ValueError("no refusal")
        first = refusals[0]
        status = next((r.status for r in refusals if r.status != 422), first.status)
        super().__init__(first.field, first.message, status, first.reason)
        self.refusals = tuple(refusals)

    def each(self) -> tuple[Rejected, ...]:
        return self.refusals


def refuse_all(refusals: Sequence[Rejected]) -> None:
    """Raise what the refusals come to: nothing, the one, or all of them together."""
    if len(refusals) == 1:
        raise refusals[0]
    if refusals:
        raise Refusals(refusals)


class NotAllowed(Exception):
    """Someone else's object, or a role that may not act on it."""
