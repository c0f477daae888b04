"""Encryption of stored secrets with MultiFernet, keyed from STUDIO_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so a new key can be put in front and
`manage.py rotate_api_keys` re-encrypts old rows. Decryption never falls back to returning
ciphertext: a missing key raises, so a wrong configuration cannot leak `gAAAA…` upstream.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """The stored secret cannot be read with the configured keys."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "STUDIO_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.STUDIO_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("stored secret cannot be decrypted with STUDIO_ENCRYPTION_KEYS") from None


def rotate(ciphertext: str) -> str:
    try:
        return fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("stored secret cannot be decrypted with STUDIO_ENCRYPTION_KEYS") from None
