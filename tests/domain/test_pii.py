"""portal.domain.pii: phone numbers normalised, masked, encrypted at rest and found by a keyed hash."""

from __future__ import annotations

import pytest
from cryptography.fernet import InvalidToken

from portal.domain.errors import Rejected
from portal.domain.pii import PhoneVault, mask_phone, normalise_phone

KEY = "a-test-pii-key-of-at-least-32-characters"
OTHER_KEY = "another-test-pii-key-of-32-characters-xx"


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138 0013 8000",
        "+8613800138000",
        "138-0013-8000",
        " 13800138000 ",
        "１３８００１３８０００",  # full width, as a Chinese keyboard types it
        "＋８６　１３８－００１３－８０００",
        "138００138０００",
        # every common way a reader writes their own mobile
        "86 138 0013 8000",
        "8613800138000",
        "(+86)138-0013-8000",
        "（＋８６）１３８－００１３－８０００",
        "(86) 138 0013 8000",
        "0086 13800138000",
        "(0086)13800138000",
        "+86-138-0013-8000",
        "+ 86 138 0013 8000",
        "+86 (138) 0013 8000",
        "(138) 0013-8000",
        "138 0013 8000",
        "138.0013.8000",
        "138—0013—8000",  # em dashes, as an IME types them
        "138\u00a00013\u00a08000",
        "138\u30000013\u30008000",  # ideographic spaces
        # pasted from a phone's contacts or a chat: direction marks and isolates around it
        "\u202a+86 138 0013 8000\u202c",
        "\u2068138 0013 8000\u2069",
        "\u200e13800138000",
        "138\u200b0013\u200b8000",
        "\ufeff13800138000",
    ],
)
def test_normalise_phone_accepts_mainland_mobiles_in_common_forms(raw):
    assert normalise_phone(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "23800138000",
        "12800138000",
        "1380013800",
        "138001380001",
        "1380013800a",
        "",
        "+1 415 555 0100",
        "138٠٠138٠٠٠",  # Arabic-Indic digits: one phone, a second HMAC
        "1380013800১",  # a Bengali digit
        "86 86 13800138000",
        "+86+86 13800138000",
        "(+86 13800138000",
        "+86 138001380001",
        "138 0013 800",
        "138/0013/8000",
        "138-0013-8000 轉 1",
        "+86 0635 8888888",
    ],
)
def test_normalise_phone_rejects_other_numbers_with_a_message(raw):
    with pytest.raises(Rejected) as refusal:
        normalise_phone(raw)
    assert refusal.value.field == "phone"
    assert refusal.value.status == 422
    assert "手機號碼" in refusal.value.message


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("+1 415 555 0100", "僅支持中國大陸手機號碼"),
        ("+852 9123 4567", "僅支持中國大陸手機號碼"),
        ("00852 9123 4567", "僅支持中國大陸手機號碼"),
        ("0635-8888888", "固定電話"),
        ("(010) 1234 5678", "固定電話"),
        ("12345", "請輸入有效的11位手機號碼"),
    ],
)
def test_a_refused_number_is_told_what_is_wrong_with_it(raw, says):
    with pytest.raises(Rejected) as refusal:
        normalise_phone(raw)
    assert says in refusal.value.message


def test_mask_phone_shows_three_and_four_digits():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("15912345678") == "159****5678"


def test_vault_round_trip_and_ciphertext_hides_the_number():
    vault = PhoneVault.from_secret(KEY)
    token = vault.encrypt("13800138000")
    assert isinstance(token, bytes)
    assert b"13800138000" not in token
    assert vault.decrypt(token) == "13800138000"


def test_encrypting_twice_gives_different_tokens():
    vault = PhoneVault.from_secret(KEY)
    assert vault.encrypt("13800138000") != vault.encrypt("13800138000")


def test_another_key_cannot_decrypt():
    token = PhoneVault.from_secret(KEY).encrypt("13800138000")
    with pytest.raises(InvalidToken):
        PhoneVault.from_secret(OTHER_KEY).decrypt(token)


def test_lookup_hash_is_stable_for_one_key_and_differs_for_another():
    vault = PhoneVault.from_secret(KEY)
    first = vault.lookup_hash("13800138000")
    assert first == PhoneVault.from_secret(KEY).lookup_hash("13800138000")
    assert first != PhoneVault.from_secret(OTHER_KEY).lookup_hash("13800138000")
    assert first != vault.lookup_hash("13800138001")
    assert "13800138000" not in first
    assert len(first) == 64


def test_short_secret_is_refused():
    with pytest.raises(ValueError, match="PII_KEY"):
        PhoneVault.from_secret("short")
