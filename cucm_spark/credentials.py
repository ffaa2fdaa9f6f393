"""AXL credentials: the user from an option or the environment; the password never from argv."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cucm_spark.errors import ConfigError

USERNAME_ENV = "CUCM_SPARK_USERNAME"
PASSWORD_ENV = "CUCM_SPARK_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def __str__(self) -> str:
        return f"{self.username} (password hidden)"


def resolve_credentials(username: str | None, password_file: Path | None) -> Credentials:
    """User from --username or $CUCM_SPARK_USERNAME; password from env, file, or a terminal prompt."""
    user = username or os.environ.get(USERNAME_ENV)
    if not user:
        raise ConfigError(f"no AXL user: pass --username or set {USERNAME_ENV}")
    return Credentials(user, _password(user, password_file))


def _password(user: str, password_file: Path | None) -> str:
    if password_file is not None:
        return read_password_file(password_file, "--password-file")
    secret = os.environ.get(PASSWORD_ENV)
    if secret:
        return secret
    if sys.stdin.isatty():
        return getpass.getpass(f"AXL password for {user}: ")
    raise ConfigError(
        f"no password: set {PASSWORD_ENV}, pass --password-file FILE, or run on a terminal to be asked"
    )


def read_password_file(path: Path, named: str) -> str:
    """The password a file holds (its line ending stripped); errors begin with ``named`` and never quote the file."""
    try:
        secret = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{named}: cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:  # its message would quote a byte of the password
        raise ConfigError(f"{named}: {path} is not UTF-8 text") from None
    if not secret:
        raise ConfigError(f"{named}: {path} is empty")
    return secret
