"""Decide whether an email really comes from the council, so that its commands may be obeyed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import getaddresses

from bot.intake.auth_results import AuthResult, parse_authentication_results
from bot.intake.message import ParsedMail

__all__ = [
    "AuthResult",
    "Authenticity",
    "authenticate",
    "commands_trusted",
    "failed_verdict",
    "parse_authentication_results",
    "trusted_results",
]

M365_AUTH_AS = "X-MS-Exchange-Organization-AuthAs"
M365_AUTH_SOURCE = "X-MS-Exchange-Organization-AuthSource"
_MAX_HEADERS = 50  # more Authentication-Results than this is an attack, not a mail path


@dataclass(frozen=True)
class Authenticity:
    """Whether the mail is authenticated as the council's own, how, and why (for the audit)."""

    authenticated: bool
    how: str  # "m365-internal", "dmarc", "dkim", "spf", or "" when not authenticated
    reason: str  # a sentence a person can read
    # Our own mail system found it forged (a failed DMARC, SPF or DKIM verdict for the
    # council's domain): never obeyed, whatever the configuration says.
    failed: bool = False


def _domain(address_or_domain: str) -> str:
    return address_or_domain.rpartition("@")[2].strip().strip("<>").lower().rstrip(".")


def organisational_domain(domain: str, own_domains: Sequence[str]) -> str | None:
    """The own domain that `domain` is, or is under (the shortest, like a registered domain)."""
    matches = [d for d in own_domains if domain == d or domain.endswith("." + d)]
    return min(matches, key=len) if matches else None


def aligned(domain: str, from_domain: str, own_domains: Sequence[str]) -> bool:
    """Relaxed alignment (RFC 7489) with the council's own domains as organisational domains."""
    org = organisational_domain(domain, own_domains)
    return org is not None and org == organisational_domain(from_domain, own_domains)


def _from_domain(mail: ParsedMail, own_domains: Sequence[str]) -> tuple[str, str]:
    """(From domain, "") when it is one of ours; ("", why not) otherwise."""
    values = mail.header_all("From")
    if len(values) != 1:
        return "", f"the message has {len(values)} From headers, so its author is unclear"
    authors = [a for _, a in getaddresses(values) if "@" in a]
    if len(authors) > 1:
        return "", f"From names {len(authors)} addresses, so its author is unclear"
    domain = _domain(mail.sender) if "@" in mail.sender else ""
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


def _first_per_subject(results: list[tuple[str, AuthResult]]) -> list[tuple[str, AuthResult]]:
    """The topmost (newest) verdict on each method and domain: a later one cannot overrule it."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for server, result in results:
        props = result.props
        subject = props.get("header.d") or _domain(props.get("header.i", ""))
        subject = subject or props.get("header.from") or _domain(props.get("smtp.mailfrom", ""))
        if (result.method, subject) not in seen:
            seen.add((result.method, subject))
            kept.append((server, result))
    return kept


def _passes(result: AuthResult, from_domain: str, own_domains: Sequence[str]) -> bool:
    props = result.props
    if result.result != "pass":
        return False
    if result.method == "dmarc":
        return props.get("header.from") == from_domain
    if result.method == "dkim":
        signer = props.get("header.d") or _domain(props.get("header.i", ""))
        return bool(signer) and aligned(signer, from_domain, own_domains)
    if result.method == "spf":
        envelope = _domain(props.get("smtp.mailfrom", ""))
        return bool(envelope) and aligned(envelope, from_domain, own_domains)
    return False


def _failed(server: str, result: AuthResult) -> str:
    return f"{result.method.upper()} failed: {server} reports {result.describe()}"


def failed_verdict(
    results: list[tuple[str, AuthResult]], from_domain: str, own_domains: Sequence[str]
) -> str:
    """The first failed verdict our own servers gave on the From domain, described; "" if none.

    DMARC fail for the From domain, and SPF fail for an envelope sender at one of its domains,
    always count. DKIM fail counts unless another signature for the same domain passed: a
    message may carry several, and one valid signature is enough (RFC 6376 6.1).
    """
    dkim_passed = {
        r.props.get("header.d") or _domain(r.props.get("header.i", ""))
        for _, r in results
        if r.method == "dkim" and r.result == "pass"
    }
    for server, result in results:
        if result.result != "fail":
            continue
        props = result.props
        if result.method == "dmarc" and props.get("header.from", from_domain) == from_domain:
            return _failed(server, result)
        if result.method == "spf":
            envelope = _domain(props.get("smtp.mailfrom", ""))
            if envelope and aligned(envelope, from_domain, own_domains):
                return _failed(server, result)
        if result.method == "dkim":
            signer = props.get("header.d") or _domain(props.get("header.i", ""))
            if signer and aligned(signer, from_domain, own_domains) and signer not in dkim_passed:
                return _failed(server, result)
    return ""


def authenticate(
    mail: ParsedMail,
    *,
    own_domains: Sequence[str],
    trusted_authserv_ids: Sequence[str],
    trust_m365_internal: bool,
) -> Authenticity:
    """Whether `mail` is authenticated as sent by the council, by Exchange or our own servers."""
    ours = [d.strip().lower().lstrip("@").rstrip(".") for d in own_domains]
    from_domain, why_not = _from_domain(mail, ours)
    if not from_domain:
        return Authenticity(False, "", why_not)
    found, untrusted = trusted_results(mail, trusted_authserv_ids)
    failure = failed_verdict(found, from_domain, ours)
    if failure:  # before anything else: no other sign of trust outweighs it
        return Authenticity(
            False,
            "",
            f"From says {from_domain} but the council's own mail system found it forged: "
            + failure,
            failed=True,
        )
    notes: list[str] = []
    if trust_m365_internal:
        ok, note = _m365(mail)
        if ok:
            return Authenticity(True, "m365-internal", note)
        notes.append(note)
    verdicts = _first_per_subject(found)
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


def commands_trusted(
    mail: ParsedMail,
    *,
    own_domains: Sequence[str],
    trusted_authserv_ids: Sequence[str],
    trust_m365_internal: bool,
    require_authenticated: bool,
) -> Authenticity:
    """`authenticate`, except that a config not requiring it (local demo) lets mail through,
    unless our own mail system found it forged."""
    verdict = authenticate(
        mail,
        own_domains=own_domains,
        trusted_authserv_ids=trusted_authserv_ids,
        trust_m365_internal=trust_m365_internal,
    )
    if verdict.authenticated or verdict.failed or require_authenticated:
        return verdict
    return Authenticity(
        True, "not-required", f"require_authenticated_commands is false ({verdict.reason})"
    )
