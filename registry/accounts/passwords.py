"""Password hashing (argon2id) and the rules a new password must meet."""
import functools
import os
import re

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; the cap keeps a request cheap
COMMON_LIST = os.path.join(os.path.dirname(__file__), "data", "common_passwords.txt")
# Pieces of an e-mail name ("nguyen.van.an") shorter than this are too common to refuse;
# the whole name counts from three letters.
MIN_NAME_PART = 4
MIN_NAME = 3

_STRONG = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
_FAST = PasswordHasher.from_parameters(profiles.CHEAPEST)


def hash_password(password: str) -> str:
    """Return the argon2id hash of password, with this app's parameters."""
    return _hasher().hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Tell whether password matches password_hash; a missing hash never matches."""
    # Checking against a stand-in hash makes an unknown e-mail cost as much as a known one.
    stored = password_hash or _dummy_hash(_hasher())
    try:
        return _hasher().verify(stored, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether password_hash was made with other parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


def problem(password: str, email: str = "") -> str | None:
    """Return why password may not be used, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(count)d characters.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(count)d characters.", count=MAX_LENGTH)
    if password.casefold() in common_passwords():
        return _("This password is too common and easy to guess. Choose another one.")
    if _contains_email_name(password, email):
        return _("The password must not contain your e-mail name.")
    return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, in lower case."""
    with open(COMMON_LIST, encoding="utf-8") as source:
        lines = (line.strip().casefold() for line in source)
        return frozenset(line for line in lines if line and not line.startswith("#"))


def _contains_email_name(password: str, email: str) -> bool:
    local = email.partition("@")[0].casefold()
    lowered = password.casefold()
    if len(local) >= MIN_NAME and local in lowered:
        return True
    pieces = re.split(r"[._+\-]+", local)
    return any(len(piece) >= MIN_NAME_PART and piece in lowered for piece in pieces)


def _hasher() -> PasswordHasher:
    return _FAST if current_app.config.get("PASSWORD_HASH_FAST") else _STRONG


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no account has this password")
