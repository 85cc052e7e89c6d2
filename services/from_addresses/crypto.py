"""SMTP passwords encrypted at rest: the key from the secret seed, encrypt and decrypt."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from deskql.settings import Settings

# -- secrets at rest -------------------------------------------------------------------------


def secret_seed(settings: Settings) -> bytes:
    """The deployment's secret: DESKQL_SECRET_KEY, or a key generated once under var/."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.var_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip().encode()


def _fernet(settings: Settings) -> Fernet:
    seed = secret_seed(settings)
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(seed).digest()))


def encrypt(settings: Settings, plain: str) -> str:
    """Encrypt a secret for storage."""
    return _fernet(settings).encrypt(plain.encode()).decode() if plain else ""


def decrypt(settings: Settings, token: str) -> str:
    """Decrypt a stored secret ('' when it cannot be: the key changed)."""
    if not token:
        return ""
    try:
        return _fernet(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
