"""Field-level encryption (AES-256-GCM) and HMAC-SHA256 blind indexes.

Sensitive resident fields (ID number, phone, ...) are stored encrypted; exact
look-ups use a keyed, truncated HMAC ("blind index") stored next to them.

Key material
------------
A single 32-byte master key is loaded, in order of preference, from

1. a key passed to :func:`configure` (tests, management commands);
2. the environment variable ``XIANGZHI_FIELD_KEY`` (urlsafe base64);
3. the file ``<settings.DATA_DIR>/keys/field.key`` (base64), which is created
   with mode 0600 (directory 0700) on first use if it does not exist.

**Losing the master key makes every encrypted field unrecoverable** — back the
key file up together with (but stored separately from) the database.

Two independent subkeys are derived from it with HKDF-SHA256, one for
encryption and one for blind indexes, so neither use can leak the other.

Ciphertext format: ``0x01`` (version) ‖ 12-byte random nonce ‖ ciphertext+tag.
The version byte is also bound as AES-GCM associated data.

Django settings are only touched lazily, inside :func:`_key_file_path`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "ENV_VAR",
    "DecryptionError",
    "KeyConfigurationError",
    "blind_index",
    "configure",
    "decrypt",
    "encrypt",
    "generate_master_key",
    "reset_keys",
]

logger = logging.getLogger(__name__)

ENV_VAR = "XIANGZHI_FIELD_KEY"
MASTER_KEY_LENGTH = 32
VERSION_1 = b"\x01"
NONCE_LENGTH = 12
TAG_LENGTH = 16
BLIND_INDEX_HEX_LENGTH = 32
_ENC_INFO = b"xiangzhi-field-enc-v1"
_BLIND_INFO = b"xiangzhi-blind-index-v1"


class KeyConfigurationError(RuntimeError):
    """The master key is missing or malformed."""


class DecryptionError(ValueError):
    """Ciphertext is malformed, was tampered with, or was made with another key."""


@dataclass(frozen=True)
class _Keys:
    enc: bytes
    blind: bytes
    # built once per key (the AES key schedule, the HMAC pads): a roster import encrypts and
    # indexes tens of thousands of values
    aead: AESGCM = field(init=False, repr=False, compare=False)
    mac: object = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "aead", AESGCM(self.enc))
        object.__setattr__(self, "mac", hmac.new(self.blind, digestmod=hashlib.sha256))


_keys: _Keys | None = None
_lock = threading.Lock()


# --------------------------------------------------------------------------
# Key management
# --------------------------------------------------------------------------
def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        master
    )


def _make_keys(master: bytes) -> _Keys:
    if not isinstance(master, (bytes, bytearray)) or len(master) != MASTER_KEY_LENGTH:
        raise KeyConfigurationError(f"字段加密主密钥必须是{MASTER_KEY_LENGTH}字节")
    master = bytes(master)
    return _Keys(enc=_derive(master, _ENC_INFO), blind=_derive(master, _BLIND_INFO))


def _decode_key(text: str, source: str) -> bytes:
    cleaned = "".join(text.split()).rstrip("=")
    # Accept both the urlsafe and the standard base64 alphabets, padded or not.
    cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        key = base64.b64decode(cleaned.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise KeyConfigurationError(
            f"{source}中的字段加密主密钥不是有效的base64编码"
        ) from exc
    if len(key) != MASTER_KEY_LENGTH:
        raise KeyConfigurationError(
            f"{source}中的字段加密主密钥应为{MASTER_KEY_LENGTH}字节，当前为{len(key)}字节"
        )
    return key


def generate_master_key() -> str:
    """A fresh random master key, urlsafe-base64 encoded (for ``XIANGZHI_FIELD_KEY``)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MASTER_KEY_LENGTH)).decode(
        "ascii"
    )


def _key_file_path() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "keys" / "field.key"


def _load_or_create_key_file(path: Path) -> bytes:
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    if not path.exists():
        _create_key_file(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        logger.warning("字段加密密钥文件 %s 的权限为 %o，建议改为 600", path, mode)
    return _decode_key(path.read_text(encoding="ascii"), f"密钥文件 {path} ")


def _create_key_file(path: Path) -> None:
    """Create the key file atomically; never overwrite an existing one.

    The key is written to a private temporary file which is then hard-linked
    into place: if another process won the race, ``os.link`` fails with
    ``FileExistsError`` and that process's key is used instead.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate_master_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        else:
            logger.warning(
                "已生成新的字段加密主密钥：%s（请妥善备份，丢失后加密数据将无法恢复）",
                path,
            )
    finally:
        tmp.unlink(missing_ok=True)


def _load_master_key() -> bytes:
    env_value = os.environ.get(ENV_VAR, "").strip()
    if env_value:
        return _decode_key(env_value, f"环境变量 {ENV_VAR} ")
    return _load_or_create_key_file(_key_file_path())


def _get_keys() -> _Keys:
    global _keys
    keys = _keys
    if keys is None:
        with _lock:
            if _keys is None:
                _keys = _make_keys(_load_master_key())
            keys = _keys
    return keys


def configure(master_key: bytes) -> None:
    """Use ``master_key`` (32 raw bytes) instead of the environment / key file."""
    global _keys
    keys = _make_keys(master_key)
    with _lock:
        _keys = keys


def reset_keys() -> None:
    """Forget cached keys; the next use reloads them (for tests)."""
    global _keys
    with _lock:
        _keys = None


# --------------------------------------------------------------------------
# Encryption
# --------------------------------------------------------------------------
def encrypt(plaintext: str) -> bytes:
    """Encrypt a string; each call uses a fresh random nonce."""
    if not isinstance(plaintext, str):
        raise TypeError("encrypt() expects a str")
    nonce = secrets.token_bytes(NONCE_LENGTH)
    sealed = _get_keys().aead.encrypt(nonce, plaintext.encode("utf-8"), VERSION_1)
    return VERSION_1 + nonce + sealed


def decrypt(blob: bytes | bytearray | memoryview) -> str:
    """Decrypt a value produced by :func:`encrypt`; raises :class:`DecryptionError`.

    Accepts ``memoryview`` because Django's ``BinaryField`` returns one on
    some database backends.
    """
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise DecryptionError("密文类型无效")
    data = bytes(blob)
    if len(data) < 1 + NONCE_LENGTH + TAG_LENGTH:
        raise DecryptionError("密文长度无效")
    version, nonce, sealed = (
        data[:1],
        data[1 : 1 + NONCE_LENGTH],
        data[1 + NONCE_LENGTH :],
    )
    if version != VERSION_1:
        raise DecryptionError("不支持的密文版本")
    try:
        plaintext = _get_keys().aead.decrypt(nonce, sealed, version)
    except InvalidTag as exc:
        raise DecryptionError("数据解密失败：密文已损坏或密钥不匹配") from exc
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError as exc:  # pragma: no cover - only with a forged valid tag
        raise DecryptionError("数据解密失败：明文不是有效的UTF-8文本") from exc


# --------------------------------------------------------------------------
# Blind index
# --------------------------------------------------------------------------
def blind_index(value: str, purpose: str) -> str:
    """Deterministic keyed digest for exact-match look-ups.

    ``purpose`` separates index domains (e.g. ``"id_number"``, ``"id_last4"``,
    ``"phone"``) so equal values in different domains do not correlate.
    Callers must normalise ``value`` first (e.g. ``idcard.normalize``).
    Returns 32 lowercase hex characters (128 bits).
    """
    if not isinstance(value, str) or not isinstance(purpose, str):
        raise TypeError("blind_index() expects str arguments")
    if not purpose or "\x00" in purpose:
        raise ValueError("purpose must be a non-empty string without NUL characters")
    message = (purpose + "\x00" + value).encode("utf-8")
    mac = _get_keys().mac.copy()
    mac.update(message)
    digest = mac.hexdigest()
    return digest[:BLIND_INDEX_HEX_LENGTH]
