"""Rules checked once, kept in the store's folder, used again while their files are unchanged.

Reading and checking the config, the procedure, the classification rules and the commands
takes longer than anything `cases` or `status` then does. The checked result is kept in
`<store>/cache/rules.cache` (owner-only) with the SHA-256 of every file it was read from and
of the bot's own code that reads them; any difference, or any doubt, and the files are read
and checked again, so a mistake is still reported with its file and line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bot.config.listing import Listing

CACHE = Path("cache") / "rules.cache"
# What the cache holds, each pickled on its own so a command unpickles only what it uses.
PARTS = ("config", "procedure", "classification", "policy", "listing")
_PACKAGE = Path(__file__).resolve().parent.parent
# The bot's code that turns the files into rules: a change to it is a change to the rules.
_CODE = ("config", "procedure", "classify", "commands", "letters", "rules.py")
_code_hash: str | None = None


def cached_rules(config_path: Path) -> tuple[Any, ...] | None:
    """(config, procedure, classification, policy) as last checked, or None (`rules_of`)."""
    return rules_of(cached_parts(config_path))


def cached_listing(config_path: Path) -> Listing | None:
    """What `cases` needs of the rules as last checked, or None (`listing_of`)."""
    return listing_of(cached_parts(config_path))


def rules_of(parts: tuple[bytes, ...] | None) -> tuple[Any, ...] | None:
    """(config, procedure, classification, policy) from the cache's parts, or None; the last
    two as functions that unpickle them when first called (most commands never need them)."""
    if parts is None:
        return None
    try:
        config, procedure = (pickle.loads(blob) for blob in parts[:2])
    except Exception:  # a cache is never worth a failure: read the files instead
        return None
    return (config, procedure, *(partial(pickle.loads, blob) for blob in parts[2:4]))


def listing_of(parts: tuple[bytes, ...] | None) -> Listing | None:
    """The listing from the cache's parts, or None; unpickling it imports no model, so
    neither pydantic nor the config's classes are loaded."""
    try:
        listing = pickle.loads(parts[4]) if parts is not None else None
    except Exception:
        return None
    return listing if isinstance(listing, Listing) else None


def cached_parts(config_path: Path) -> tuple[bytes, ...] | None:
    """The cache's parts, still pickled, when its key matches the files as they are now: a
    reader that wants both the listing and the rules checks the key once."""
    for path in _locations(config_path):
        try:
            head, _, body = path.read_bytes().partition(b"\n")
            header = json.loads(head)
            if not isinstance(header, dict) or header.get("key") != _key(config_path, header):
                continue
            if header.get("body") != hashlib.sha256(body).hexdigest():
                continue
            blobs = pickle.loads(body)  # a tuple of bytes: imports nothing
        except Exception:  # a cache is never worth a failure: read the files instead
            continue
        if isinstance(blobs, tuple) and len(blobs) == len(PARTS):
            return blobs
    return None


def keep_rules(config_path: Path, config: Any, parts: tuple[Any, ...]) -> None:
    """Keep checked rules for next time, when the store's folder exists (never made here)."""
    store = Path(config.store.directory)
    if not store.is_dir():
        return
    templates = Path(config.templates).resolve()
    inputs = [Path(config_path), config.rules.procedure, config.rules.classification]
    inputs += [config.rules.commands, *_templates(templates)]
    header: dict[str, Any] = {
        "inputs": sorted(str(Path(p).resolve()) for p in inputs),
        "folders": [str(templates)],
    }
    blobs = tuple(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL) for part in parts)
    body = pickle.dumps(blobs, protocol=pickle.HIGHEST_PROTOCOL)
    # A read-only store folder, a full disk: then the rules are simply checked each time.
    with contextlib.suppress(OSError):
        header["key"] = _key(config_path, header)
        header["body"] = hashlib.sha256(body).hexdigest()
        _write(store / CACHE, json.dumps(header).encode() + b"\n" + body)


def _locations(config_path: Path) -> Iterator[Path]:
    """Where the cache may be: first where a plain `store:` / `  directory:` pair in the config
    says, found without a YAML parser (importing one is a tenth of `cases`); else where the
    config read as YAML says. A wrong guess costs nothing: the cache's key names the config
    and its bytes, so a cache found elsewhere is never taken for this config's."""
    try:
        text = Path(config_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    base = Path(config_path).resolve().parent
    found = _STORE_DIRECTORY.search(text)
    guessed = base / found.group(1) / CACHE if found else None
    if guessed is not None and guessed.is_file():
        yield guessed
    parsed = _parsed_location(text, base)  # only when the guess was no good
    if parsed is not None and parsed != guessed:
        yield parsed


# `store:` at the start of a line, then (after comments or blank lines) `directory: X`,
# unquoted or quoted, up to a comment. Anything fancier is left to the YAML parser.
_STORE_DIRECTORY = re.compile(
    r"^store:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]+directory:[ \t]*"
    r"[\"']?([^\"'#\n]*?)[\"']?[ \t]*(?:#[^\n]*)?$",
    re.MULTILINE,
)


def _parsed_location(text: str, base: Path) -> Path | None:
    """Where the cache is, from config.yaml read as plain YAML (it is checked on a miss)."""
    import yaml  # here: the listing's common path finds the cache without it

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # a safe loader: plain data only
        directory = ((data or {}).get("store") or {}).get("directory", "var/store")
        store = base / str(directory)
    except (yaml.YAMLError, AttributeError, TypeError):
        return None
    return store / CACHE if store.is_dir() else None


def _key(config_path: Path, header: dict[str, Any]) -> str:
    """A digest of the config's path, every input file, the listing of the templates and the
    code that reads them: equal keys mean the same rules."""
    digest = hashlib.sha256()
    digest.update(str(Path(config_path).resolve()).encode())
    digest.update(f"{sys.version}|{_pydantic_version()}|{_code()}".encode())
    inputs, folders = header.get("inputs"), header.get("folders")
    if not isinstance(inputs, list) or not isinstance(folders, list):
        raise ValueError("the cache's header does not say what it was read from")
    for name in inputs:
        digest.update(name.encode() + b"\0" + hashlib.sha256(Path(name).read_bytes()).digest())
    for folder in folders:  # a template added or removed changes the key too
        digest.update(folder.encode() + b"\0" + "\0".join(sorted(os.listdir(folder))).encode())
    return digest.hexdigest()


def _templates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def _code() -> str:
    global _code_hash
    if _code_hash is None:
        digest = hashlib.sha256()
        for name in _CODE:
            path = _PACKAGE / name
            files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            for file in files:
                digest.update(file.name.encode() + b"\0" + file.read_bytes())
        _code_hash = digest.hexdigest()
    return _code_hash


def _pydantic_version() -> str:
    """pydantic's version file, read not imported: importing pydantic was a third of `cases`,
    and the file names the pydantic-core it requires too."""
    spec = find_spec("pydantic")
    if spec is None or spec.origin is None:
        return "no pydantic"
    return hashlib.sha256(Path(spec.origin).with_name("version.py").read_bytes()).hexdigest()


def _write(path: Path, data: bytes) -> None:
    """Replace the cache in one step, owner-only (not fsynced: it is checked when read)."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rules.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
