"""Refuse secrets written into a config file: they belong in environment variables."""

from __future__ import annotations

import re
from typing import Any

from bot.config.yamlsource import Problem, YamlDoc

_SECRET_WORDS = frozenset(
    {
        "apikey",
        "credential",
        "credentials",
        "key",
        "passphrase",
        "passwd",
        "password",
        "pwd",
        "secret",
        "token",
    }
)


def looks_like_secret(key: str) -> bool:
    """`client_secret`, `smtpPassword`, `api-key`: yes; `client_secret_env`: no, it names a var."""
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", key)]
    return bool(words) and words[-1] != "env" and any(w in _SECRET_WORDS for w in words)


def secret_literal_problems(doc: YamlDoc) -> list[Problem]:
    """A Problem for every secret-looking key that holds a value, anywhere in the document."""
    problems: list[Problem] = []
    _walk(doc.data, (), doc, problems)
    return problems


def _walk(node: Any, loc: tuple[str | int, ...], doc: YamlDoc, out: list[Problem]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            child = (*loc, key)
            holds_value = value is not None and not isinstance(value, dict | list)
            if isinstance(key, str) and looks_like_secret(key) and holds_value:
                # Never echo the value: it is a secret.
                out.append(
                    doc.problem(
                        child,
                        "a secret is written into the config file",
                        f"secrets come from environment variables: remove it and set "
                        f"{key}_env: ENV_VAR_NAME",
                    )
                )
            else:
                _walk(value, child, doc, out)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, (*loc, index), doc, out)
