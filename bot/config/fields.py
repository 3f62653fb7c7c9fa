"""Checked value types used by the config models: emails, domains, ids, clock times, paths."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

# Deliberately simple: a mail server is the final judge, this only catches typos in the config.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
_IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
# An RFC 8601 authserv-id is a token, in practice the server's host name.
_AUTHSERV_ID = re.compile(r"^[A-Za-z0-9!#$%&'*+./^_`{|}~-]+$")


def problem(message: str, fix: str, **ctx: Any) -> PydanticCustomError:
    """A validation error carrying its own fix, which yamlsource shows to the person."""
    return PydanticCustomError("config_value", message, {"fix": fix, **ctx})


def as_written(value: Any) -> Any:
    """A default given as it would be written in the YAML, so validate_default runs it through
    the same checks and path resolution as a value from the file."""
    return value


def looks_like_email(value: str) -> bool:
    return bool(_EMAIL.match(value)) and ".." not in value


def _check_email(value: str) -> str:
    cleaned = value.strip()
    if not looks_like_email(cleaned):
        raise problem(
            "'{value}' is not a valid email address",
            "write it like name@example.org, with no spaces or angle brackets",
            value=value,
        )
    return cleaned.lower()


def _check_domain(value: str) -> str:
    cleaned = value.strip().lower().removeprefix("@")
    if not _DOMAIN.match(cleaned):
        raise problem(
            "'{value}' is not a mail domain",
            "write just the part after the @, like council.example",
            value=value,
        )
    return cleaned


def _check_authserv_id(value: str) -> str:
    cleaned = value.strip().lower()
    if not _AUTHSERV_ID.match(cleaned):
        raise problem(
            "'{value}' is not a mail server name as it appears in Authentication-Results",
            "give the first word after 'Authentication-Results:' that your own server "
            "writes, usually its host name, like mx.council.example",
            value=value,
        )
    return cleaned


def _check_identifier(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise problem(
            "'{value}' is not a usable id",
            "use lower-case letters, digits, '.', '_' or '-', like jsmith",
            value=value,
        )
    return value


def _check_env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise problem(
            "'{value}' is not an environment variable name",
            "give the NAME of the variable that holds the secret, like CCBOT_PASSWORD",
            value=value,
        )
    return value


def _parse_clock_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60).
        raise problem(
            "the time was read as the number {value}",
            'put the time in quotes, like "17:00"',
            value=value,
        )
    match = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise problem(
            "{value} is not a time of day",
            'write it as "HH:MM" (24-hour), like "17:00"',
            value=repr(value),
        )
    return dt.time(int(match.group(1)), int(match.group(2)))


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Relative paths count from the folder of the config file (passed in the context)."""
    path = value.expanduser()
    base = (info.context or {}).get("base_dir")
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return path


Email = Annotated[str, AfterValidator(_check_email)]
Domain = Annotated[str, AfterValidator(_check_domain)]
Identifier = Annotated[str, AfterValidator(_check_identifier)]
AuthservId = Annotated[str, AfterValidator(_check_authserv_id)]
EnvName = Annotated[str, AfterValidator(_check_env_name)]
ClockTime = Annotated[dt.time, BeforeValidator(_parse_clock_time)]
ConfigPath = Annotated[Path, AfterValidator(_resolve_path)]


def as_person_ref(value: str) -> str:
    """A manager is a person id or an email address; emails are compared lower-case."""
    return _check_email(value) if "@" in value else _check_identifier(value.strip())


PersonRef = Annotated[str, AfterValidator(as_person_ref)]
