"""A development secret key, generated once and kept in the data folder."""

import os
import secrets
from pathlib import Path


def development_secret_key(data_dir: Path) -> str:
    """Return the key stored in ``data_dir``, creating it (readable by the owner only) if absent."""
    path = data_dir / "development_secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it first: use theirs, so both agree.
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key
