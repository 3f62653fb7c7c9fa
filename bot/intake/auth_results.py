"""Authentication-Results headers (RFC 8601) as data: which server wrote one, what it found."""

from __future__ import annotations

from dataclasses import dataclass

_SPECIALS = ";="


@dataclass(frozen=True)
class AuthResult:
    """One method's result from an Authentication-Results header, e.g. dkim=pass header.d=x."""

    method: str
    result: str
    props: dict[str, str]

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.props.items()) if "." in k)
        return f"{self.method} {self.result}" + (f" ({shown})" if shown else "")


@dataclass(frozen=True)
class AuthResultsHeader:
    """A parsed Authentication-Results header: who wrote it and what it found."""

    authserv_id: str  # "" when the header names no server (Exchange Online writes none)
    results: tuple[AuthResult, ...]


def _tokens(value: str) -> list[tuple[str, bool]]:
    """Words, ';' and '=' of a header, comments dropped; (text, quoted) pairs."""
    out: list[tuple[str, bool]] = []
    word: list[str] = []
    depth, i = 0, 0

    def flush() -> None:
        if word:
            out.append(("".join(word), False))
            word.clear()

    while i < len(value):
        ch = value[i]
        if depth:  # inside a comment, which may nest and escape
            depth += {"(": 1, ")": -1}.get(ch, 0)
            i += 2 if ch == "\\" else 1
        elif ch == "(":
            flush()
            depth, i = 1, i + 1
        elif ch == '"':
            flush()
            text: list[str] = []
            i += 1
            while i < len(value) and value[i] != '"':
                if value[i] == "\\" and i + 1 < len(value):
                    i += 1
                text.append(value[i])
                i += 1
            out.append(("".join(text), True))
            i += 1
        elif ch.isspace() or ch in _SPECIALS:
            flush()
            if ch in _SPECIALS:
                out.append((ch, False))
            i += 1
        else:
            word.append(ch)
            i += 1
    flush()
    return out


def _resinfo(tokens: list[tuple[str, bool]]) -> AuthResult | None:
    """`method[/version]=result [key=value ...]`; CFWS around '.' and '/' is glued back."""
    pairs: list[tuple[str, str]] = []
    key: list[str] = []
    i = 0
    while i < len(tokens):
        text, quoted = tokens[i]
        if text == "=" and not quoted and key and i + 1 < len(tokens):
            pairs.append(("".join(key).lower(), tokens[i + 1][0]))
            key = []
            i += 2
        else:
            key.append(text)
            i += 1
    if not pairs:
        return None  # "none", or words we cannot read
    method = pairs[0][0].split("/", 1)[0]
    props = {k: v.strip().lower().rstrip(".") for k, v in pairs[1:]}
    return AuthResult(method, pairs[0][1].lower(), props)


def parse_authentication_results(value: str) -> AuthResultsHeader:
    """Read one Authentication-Results value (RFC 8601), tolerating what real servers write."""
    segments: list[list[tuple[str, bool]]] = [[]]
    for token in _tokens(value):
        if token == (";", False):
            segments.append([])
        else:
            segments[-1].append(token)
    head, rest = segments[0], segments[1:]
    if any(text == "=" and not quoted for text, quoted in head):
        # No authserv-id at all: the first segment is already a result.
        authserv_id, rest = "", segments
    else:
        authserv_id = head[0][0].strip().lower() if head else ""
    results = tuple(r for r in (_resinfo(seg) for seg in rest) if r is not None)
    return AuthResultsHeader(authserv_id, results)
