"""The phone number: encrypted at rest, found by a keyed hash, masked for staff without `pii`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.domain.errors import Rejected

MOBILE = re.compile(r"1[3-9][0-9]{9}")


def normalise_phone(raw: str) -> str:
    """Mainland mobile numbers, with an optional +86 and spaces or dashes; else Rejected.

    Full-width forms, as Chinese keyboards type them (１３８…, ＋８６, －), fold to ASCII first, and
    only ASCII digits count: a number written with other digits (١, ৮) would hash apart from the
    same number in ASCII, a second account for one phone and a way round the blacklist (P6)."""
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))
    digits = digits.removeprefix("+86").removeprefix("0086")
    if not MOBILE.fullmatch(digits):
        raise Rejected("phone", "請輸入有效的11位手機號碼")
    return digits


def mask_phone(phone: str) -> str:
    """138****8000: three and four digits, as PLEDGE_RULES P3 shows staff without `pii`."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


@dataclass(frozen=True)
class PhoneVault:
    """Two keys derived from the instance's PII_KEY: one encrypts, one hashes for look-up."""

    key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> PhoneVault:
        if len(secret) < 32:
            raise ValueError("PII_KEY must be at least 32 characters")
        return cls(secret.encode())

    def _derive(self, purpose: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(self.key)

    def lookup_hash(self, phone: str) -> str:
        return hmac.new(self._derive(b"phone-lookup"), phone.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, phone: str) -> bytes:
        return self._fernet().encrypt(phone.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet().decrypt(token).decode()

    def _fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self._derive(b"phone-encrypt")))
