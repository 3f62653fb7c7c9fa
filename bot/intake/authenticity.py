"""Decide whether an email really comes from the council, so that its commands may be obeyed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import getaddresses

from bot.intake.message import ParsedMail

M365_AUTH_AS = "X-MS-Exchange-Organization-AuthAs"
M365_AUTH_SOURCE = "X-MS-Exchange-Organization-AuthSource"
_SPECIALS = ";="
_MAX_HEADERS = 50  # more Authentication-Results than this is an attack, not a mail path


@dataclass(frozen=True)
class Authenticity:
    """Whether the mail is authenticated as the council's own, how, and why (for the audit)."""

    authenticated: bool
    how: str  # "m365-internal", "dmarc", "dkim", "spf", or "" when not authenticated
    reason: str  # a sentence a person can read


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


def domain_of(address_or_domain: str) -> str:
    return address_or_domain.rpartition("@")[2].strip().strip("<>").lower().rstrip(".")


def organisational_domain(domain: str, own_domains: Sequence[str]) -> str | None:
    """The own domain that `domain` is, or is under (the shortest, like a registered domain)."""
    matches = [d for d in own_domains if domain == d or domain.endswith("." + d)]
    return min(matches, key=len) if matches else None


def aligned(domain: str, from_domain: str, own_domains: Sequence[str]) -> bool:
    """Relaxed alignment (RFC 7489) with the council's own domains as organisational domains."""
    org = organisational_domain(domain, own_domains)
    return org is not None and org == organisational_domain(from_domain, own_domains)


def own_from_domain(mail: ParsedMail, own_domains: Sequence[str]) -> tuple[str, str]:
    """(From domain, "") when it is one of ours; ("", why not) otherwise."""
    values = mail.header_all("From")
    if len(values) != 1:
        return "", f"the message has {len(values)} From headers, so its author is unclear"
    authors = [a for _, a in getaddresses(values) if "@" in a]
    if len(authors) > 1:
        return "", f"From names {len(authors)} addresses, so its author is unclear"
    domain = domain_of(mail.sender) if "@" in mail.sender else ""
    if not domain:
        return "", "the message has no From address"
    if domain not in own_domains:
        ours = ", ".join(own_domains)
        return "", f"From domain {domain} is not one of the council's domains ({ours})"
    return domain, ""


def _m365(mail: ParsedMail) -> tuple[bool, str]:
    auth_as = mail.header_all(M365_AUTH_AS)
    if not auth_as:
        return False, f"no {M365_AUTH_AS} header"
    if len(auth_as) > 1 or len(mail.header_all(M365_AUTH_SOURCE)) > 1:
        return False, f"{M365_AUTH_AS} or AuthSource appears more than once"
    value = auth_as[0].strip()
    if value.lower() != "internal":
        return False, f"{M365_AUTH_AS} is {value or 'empty'}, not Internal"
    source = mail.header(M365_AUTH_SOURCE)
    by = f" by {source.strip()}" if source and source.strip() else ""
    return True, f"Exchange authenticated the sender as internal{by}"


def trusted_results(
    mail: ParsedMail, trusted_authserv_ids: Sequence[str]
) -> tuple[list[tuple[str, AuthResult]], str]:
    """Results our own servers added: headers from the top down to the first one by anyone else.

    Below that point anyone on the path (or the sender) could have written them. Returns the
    results with the server that wrote each, and the first untrusted server's name ("" if none).
    """
    trusted = {t.strip().lower() for t in trusted_authserv_ids}
    found: list[tuple[str, AuthResult]] = []
    for value in mail.header_all("Authentication-Results")[:_MAX_HEADERS]:
        header = parse_authentication_results(value)
        if header.authserv_id not in trusted:
            return found, header.authserv_id or "a server that does not name itself"
        found.extend((header.authserv_id, result) for result in header.results)
    return found, ""


def newest_verdicts(results: list[tuple[str, AuthResult]]) -> list[tuple[str, AuthResult]]:
    """The topmost (newest) verdict on each method and domain: a later one cannot overrule it."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for server, result in results:
        props = result.props
        subject = props.get("header.d") or domain_of(props.get("header.i", ""))
        subject = subject or props.get("header.from") or domain_of(props.get("smtp.mailfrom", ""))
        if (result.method, subject) not in seen:
            seen.add((result.method, subject))
            kept.append((server, result))
    return kept


def own_domain_names(own_domains: Sequence[str]) -> list[str]:
    """The council's domains as config gives them, compared as mail domains are: lower case,
    no leading @, no trailing dot."""
    return [d.strip().lower().lstrip("@").rstrip(".") for d in own_domains]


def _passes(result: AuthResult, from_domain: str, own_domains: Sequence[str]) -> bool:
    return result.result == "pass" and about_sender(result, from_domain, own_domains)


def about_sender(result: AuthResult, from_domain: str, own_domains: Sequence[str]) -> bool:
    """Whether a verdict judges the From domain (DMARC) or a domain aligned with it."""
    props = result.props
    if result.method == "dmarc":
        return props.get("header.from") == from_domain
    if result.method == "dkim":
        signer = props.get("header.d") or domain_of(props.get("header.i", ""))
        return bool(signer) and aligned(signer, from_domain, own_domains)
    if result.method == "spf":
        envelope = domain_of(props.get("smtp.mailfrom", ""))
        return bool(envelope) and aligned(envelope, from_domain, own_domains)
    return False


def authenticate(
    mail: ParsedMail,
    *,
    own_domains: Sequence[str],
    trusted_authserv_ids: Sequence[str],
    trust_m365_internal: bool,
) -> Authenticity:
    """Whether `mail` is authenticated as sent by the council, by Exchange or our own servers."""
    ours = own_domain_names(own_domains)
    from_domain, why_not = own_from_domain(mail, ours)
    if not from_domain:
        return Authenticity(False, "", why_not)
    notes: list[str] = []
    if trust_m365_internal:
        ok, note = _m365(mail)
        if ok:
            return Authenticity(True, "m365-internal", note)
        notes.append(note)
    found, untrusted = trusted_results(mail, trusted_authserv_ids)
    verdicts = newest_verdicts(found)
    dmarc_failed = any(
        r.method == "dmarc" and r.result == "fail" and r.props.get("header.from") == from_domain
        for _, r in verdicts
    )
    if dmarc_failed:  # the domain's own policy says no; an aligned pass does not outweigh it
        notes.append("DMARC failed, which outweighs any other pass")
    else:
        for method in ("dmarc", "dkim", "spf"):
            for server, result in verdicts:
                if result.method == method and _passes(result, from_domain, ours):
                    return Authenticity(True, method, f"{server} reports {result.describe()}")
    if verdicts:
        notes += [f"{server} reports {result.describe()}" for server, result in verdicts]
    elif untrusted:
        notes.append(f"Authentication-Results from {untrusted} is not a trusted server")
    elif mail.header_all("Authentication-Results"):
        notes.append("our server reports no results")
    else:
        notes.append("there is no Authentication-Results header")
    detail = "; ".join(notes)
    return Authenticity(
        False, "", f"From says {from_domain} but no trusted Authentication-Results pass: {detail}"
    )
