"""Tests for xiangzhi.core.crypto (AES-GCM field encryption + blind index).

These tests never need configured Django settings: keys are supplied via
``configure()``, the environment, or a monkeypatched ``django.conf.settings``.
"""

from __future__ import annotations

import base64
import os
import re
import stat
import sys
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiangzhi.core import crypto
from xiangzhi.core.crypto import DecryptionError, KeyConfigurationError

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def _isolated_keys(monkeypatch):
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)
    crypto.reset_keys()
    crypto.configure(KEY_A)
    yield
    crypto.reset_keys()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Point the lazily-read ``settings.DATA_DIR`` at a temporary directory."""
    import django.conf

    monkeypatch.setattr(django.conf, "settings", SimpleNamespace(DATA_DIR=tmp_path))
    crypto.reset_keys()
    return tmp_path


# --------------------------------------------------------------------------
# encrypt / decrypt
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "plaintext",
    [
        "",
        "341524199001011234",
        "王小明",
        "䃥",
        "𠀀𪚥䶮",
        "安徽省六安市金寨县 梅山镇\n",
        "emoji 👩‍🌾",
        "x" * 10_000,
    ],
)
def test_round_trip(plaintext):
    blob = crypto.encrypt(plaintext)
    assert isinstance(blob, bytes)
    assert crypto.decrypt(blob) == plaintext


def test_format():
    blob = crypto.encrypt("abc")
    assert blob[0] == 0x01
    assert len(blob) == 1 + 12 + len(b"abc") + 16
    assert b"abc" not in blob


def test_nonce_differs_per_call():
    blobs = [crypto.encrypt("同一个明文") for _ in range(50)]
    nonces = {blob[1:13] for blob in blobs}
    assert len(nonces) == 50
    assert len(set(blobs)) == 50
    assert {crypto.decrypt(blob) for blob in blobs} == {"同一个明文"}


def test_decrypt_accepts_memoryview_and_bytearray():
    blob = crypto.encrypt("䃥")
    assert crypto.decrypt(memoryview(blob)) == "䃥"
    assert crypto.decrypt(bytearray(blob)) == "䃥"


def test_every_single_bit_flip_is_detected():
    blob = crypto.encrypt("341524199001011234")
    for index in range(len(blob)):
        for bit in range(8):
            tampered = bytearray(blob)
            tampered[index] ^= 1 << bit
            with pytest.raises(DecryptionError):
                crypto.decrypt(bytes(tampered))


def test_truncation_and_extension_detected():
    blob = crypto.encrypt("hello")
    for cut in range(len(blob)):
        with pytest.raises(DecryptionError):
            crypto.decrypt(blob[:cut])
    with pytest.raises(DecryptionError):
        crypto.decrypt(blob + b"\x00")


def test_unknown_version_rejected():
    blob = crypto.encrypt("hello")
    with pytest.raises(DecryptionError, match="版本"):
        crypto.decrypt(b"\x02" + blob[1:])


@pytest.mark.parametrize("bad", [None, "text", 123])
def test_decrypt_rejects_non_bytes(bad):
    with pytest.raises(DecryptionError):
        crypto.decrypt(bad)


def test_decrypt_with_other_key_fails():
    blob = crypto.encrypt("secret")
    crypto.configure(KEY_B)
    with pytest.raises(DecryptionError) as excinfo:
        crypto.decrypt(blob)
    assert re.search(r"[\u4e00-\u9fff]", str(excinfo.value))
    crypto.configure(KEY_A)
    assert crypto.decrypt(blob) == "secret"


def test_encrypt_rejects_non_str():
    with pytest.raises(TypeError):
        crypto.encrypt(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.encrypt(None)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_round_trip_property(plaintext):
    assert crypto.decrypt(crypto.encrypt(plaintext)) == plaintext


# --------------------------------------------------------------------------
# blind_index
# --------------------------------------------------------------------------
def test_blind_index_deterministic_and_shaped():
    first = crypto.blind_index("341524199001011234", "id_number")
    assert first == crypto.blind_index("341524199001011234", "id_number")
    assert HEX32.fullmatch(first)


def test_blind_index_purpose_separated():
    value = "1234"
    digests = {
        crypto.blind_index(value, purpose)
        for purpose in ("id_number", "id_last4", "phone")
    }
    assert len(digests) == 3


def test_blind_index_value_separated():
    assert crypto.blind_index("13812345678", "phone") != crypto.blind_index(
        "13812345679", "phone"
    )


def test_blind_index_no_concatenation_ambiguity():
    # purpose "a" + value "b\x00c"  vs  purpose "a\x00b" is impossible (NUL rejected)
    with pytest.raises(ValueError):
        crypto.blind_index("c", "a\x00b")
    assert crypto.blind_index("bc", "a") != crypto.blind_index("c", "ab")


def test_blind_index_depends_on_key():
    before = crypto.blind_index("13812345678", "phone")
    crypto.configure(KEY_B)
    assert crypto.blind_index("13812345678", "phone") != before


def test_blind_index_is_not_plain_sha256_or_unkeyed_hmac():
    import hashlib
    import hmac

    digest = crypto.blind_index("1234", "id_last4")
    assert digest != hashlib.sha256(b"id_last4\x001234").hexdigest()[:32]
    assert (
        digest != hmac.new(KEY_A, b"id_last4\x001234", hashlib.sha256).hexdigest()[:32]
    )


def test_blind_index_and_encryption_keys_differ():
    keys = crypto._get_keys()
    assert keys.enc != keys.blind
    assert KEY_A not in (keys.enc, keys.blind)


@pytest.mark.parametrize(
    ("value", "purpose"), [("x", ""), (None, "phone"), ("x", None), (1, "phone")]
)
def test_blind_index_rejects_bad_arguments(value, purpose):
    with pytest.raises((TypeError, ValueError)):
        crypto.blind_index(value, purpose)


def test_known_answer_vector():
    """Pin the derivation so an accidental change (info string, truncation) is caught."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    blind_key = HKDF(hashes.SHA256(), 32, None, b"xiangzhi-blind-index-v1").derive(
        KEY_A
    )
    expected = hmac.new(blind_key, b"phone\x0013812345678", hashlib.sha256).hexdigest()[
        :32
    ]
    assert crypto.blind_index("13812345678", "phone") == expected

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    enc_key = HKDF(hashes.SHA256(), 32, None, b"xiangzhi-field-enc-v1").derive(KEY_A)
    blob = crypto.encrypt("䃥")
    assert AESGCM(enc_key).decrypt(blob[1:13], blob[13:], b"\x01") == "䃥".encode()


# --------------------------------------------------------------------------
# key loading
# --------------------------------------------------------------------------
def test_configure_rejects_wrong_length():
    with pytest.raises(KeyConfigurationError):
        crypto.configure(b"short")
    with pytest.raises(KeyConfigurationError):
        crypto.configure("x" * 32)  # type: ignore[arg-type]


def test_key_from_environment(monkeypatch):
    crypto.reset_keys()
    monkeypatch.setenv(crypto.ENV_VAR, base64.urlsafe_b64encode(KEY_B).decode())
    from_env = crypto.blind_index("v", "p")
    crypto.configure(KEY_B)
    assert crypto.blind_index("v", "p") == from_env


def test_env_key_accepts_standard_alphabet_and_missing_padding(monkeypatch):
    key = bytes([0xFB, 0xFF] * 16)  # encodes with '+' / '/' vs '-' / '_'
    crypto.configure(key)
    expected = crypto.blind_index("v", "p")
    for encoded in (
        base64.urlsafe_b64encode(key).decode(),
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
    ):
        crypto.reset_keys()
        monkeypatch.setenv(crypto.ENV_VAR, encoded)
        assert crypto.blind_index("v", "p") == expected


@pytest.mark.parametrize(
    "bad",
    [
        base64.urlsafe_b64encode(b"\x00" * 16).decode(),  # 16 bytes
        base64.urlsafe_b64encode(b"\x00" * 33).decode(),  # 33 bytes
        "not base64 at all!!",
        "密钥",
    ],
)
def test_bad_env_key_rejected(monkeypatch, bad):
    crypto.reset_keys()
    monkeypatch.setenv(crypto.ENV_VAR, bad)
    with pytest.raises(KeyConfigurationError) as excinfo:
        crypto.encrypt("x")
    assert crypto.ENV_VAR in str(excinfo.value)


def test_generate_master_key():
    encoded = crypto.generate_master_key()
    assert len(base64.urlsafe_b64decode(encoded)) == 32
    assert crypto.generate_master_key() != encoded


def test_env_takes_precedence_over_key_file(data_dir, monkeypatch):
    monkeypatch.setenv(crypto.ENV_VAR, base64.urlsafe_b64encode(KEY_B).decode())
    crypto.encrypt("x")
    assert not (data_dir / "keys").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_key_file_created_with_private_permissions(data_dir):
    old_umask = os.umask(0o022)
    try:
        blob = crypto.encrypt("䃥")
    finally:
        os.umask(old_umask)
    key_file = data_dir / "keys" / "field.key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert len(base64.urlsafe_b64decode(key_file.read_text().strip())) == 32
    assert [p.name for p in key_file.parent.iterdir()] == [
        "field.key"
    ]  # no temp files left

    # A fresh process (simulated by reset_keys) reuses the same key file.
    content = key_file.read_bytes()
    crypto.reset_keys()
    assert crypto.decrypt(blob) == "䃥"
    assert key_file.read_bytes() == content


def test_existing_key_file_is_used_not_overwritten(data_dir):
    keys_dir = data_dir / "keys"
    keys_dir.mkdir(mode=0o700)
    key_file = keys_dir / "field.key"
    key_file.write_text(base64.b64encode(KEY_B).decode() + "\n")
    key_file.chmod(0o600)
    from_file = crypto.blind_index("v", "p")
    assert key_file.read_text().strip() == base64.b64encode(KEY_B).decode()
    crypto.configure(KEY_B)
    assert crypto.blind_index("v", "p") == from_file


def test_existing_keys_dir_is_reused(data_dir):
    (data_dir / "keys").mkdir(mode=0o700)
    (data_dir / "keys" / "secret_key").write_text("unrelated")
    crypto.encrypt("x")
    assert (data_dir / "keys" / "field.key").is_file()
    assert (data_dir / "keys" / "secret_key").read_text() == "unrelated"


def test_corrupt_key_file_rejected(data_dir):
    (data_dir / "keys").mkdir(mode=0o700)
    (data_dir / "keys" / "field.key").write_text("garbage")
    with pytest.raises(KeyConfigurationError):
        crypto.encrypt("x")


def test_lost_race_uses_winner_key(data_dir, monkeypatch):
    """If another process creates the key file between our check and link, use theirs."""
    keys_dir = data_dir / "keys"
    keys_dir.mkdir(mode=0o700)
    key_file = keys_dir / "field.key"
    real_link = os.link

    def racing_link(src, dst):
        key_file.write_text(base64.b64encode(KEY_B).decode())
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    from_file = crypto.blind_index("v", "p")
    crypto.configure(KEY_B)
    assert crypto.blind_index("v", "p") == from_file
    assert [p.name for p in keys_dir.iterdir()] == ["field.key"]


def test_key_file_path_uses_settings_data_dir(data_dir):
    assert crypto._key_file_path() == data_dir / "keys" / "field.key"
