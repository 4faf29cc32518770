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
PHONE_MAX_LENGTH = 32  # what a phone field takes: 「（+86）139 - 1234 - 5678」 with room to spare

# Between the groups of a number, as readers type them (after NFKC, so full-width forms are in):
# spaces of any kind, hyphens, dashes and the minus sign, dots and middle dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.\u00b7\u30fb]+")
# The country code as written before a mobile: +86, 0086 or a bare 86, optionally in brackets
# ((+86)139…); the first three digits may stand in brackets too ((139) 1234 5678). A mobile
# begins with 1, so a bare 86 in front of one cannot be part of the number.
_WRITTEN_MOBILE = re.compile(
    r"(?:\((?:\+|00)?86\)|(?:\+|00)?86)?(?:\((1[3-9][0-9])\)|(1[3-9][0-9]))([0-9]{8})"
)
PHONE_INVALID = "請輸入有效的11位手機號碼"
PHONE_FOREIGN = "目前僅支持中國大陸手機號碼（+86），請輸入11位手機號碼"
PHONE_LANDLINE = "請輸入11位手機號碼，固定電話無法接收短信驗證碼"
PHONE_TOO_LONG = "手機號碼太長，請輸入11位手機號碼"


def normalise_phone(raw: str) -> str:
    """A mainland mobile number, however a reader writes their own, as its 11 digits; else Rejected.

    Accepted: 13912345678, 139 1234 5678, 139-1234-5678, 139.1234.5678, (139) 1234 5678, each
    optionally after +86, 0086 or 86, with or without brackets ((+86), （+86）) and separators.
    Full-width forms, as Chinese keyboards type them (１３８…, ＋８６, －, （）), fold to ASCII first,
    and only ASCII digits count: a number written with other digits (١, ৮) would hash apart from the
    same number in ASCII, a second account for one phone and a way round the blacklist (P6). Every
    form gives the same 11 digits, so an account registered in one is found in any other."""
    text = _SEPARATORS.sub("", _without_format_marks(unicodedata.normalize("NFKC", raw or "")))
    if found := _WRITTEN_MOBILE.fullmatch(text):
        return (found.group(1) or found.group(2)) + found.group(3)
    bare = text.replace("(", "").replace(")", "")
    if re.fullmatch(r"(?:\+|00)(?!86)[1-9][0-9]{6,14}", bare):
        raise Rejected("phone", PHONE_FOREIGN)
    if re.fullmatch(r"0[1-9][0-9]{8,10}", bare):
        raise Rejected("phone", PHONE_LANDLINE)
    raise Rejected("phone", PHONE_INVALID)


def _without_format_marks(text: str) -> str:
    """The text without the characters that take no room (Cf: direction marks, isolates, zero-width
    spaces): a number copied from a phone's contacts or a chat arrives wrapped in them
    (「\u202a+86 139 1234 5678\u202c」), looks right in the field, and was refused as not a number.
    They carry no digit, so the 11 digits, and the keyed hash of them, are the same."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


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
