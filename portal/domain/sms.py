"""Sending the one-time code. The sender is chosen in settings; this is the development one."""

from __future__ import annotations

import logging
import sys
from typing import Protocol

log = logging.getLogger("portal.sms")


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleSender:
    """Writes the message to the log and the console, never to the page (development only)."""

    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, text)
        print(f"[短信] {phone}: {text}", file=sys.stderr, flush=True)
