"""Whether an email's instructions may be obeyed: authenticated, never against a failed check."""

from __future__ import annotations

from collections.abc import Sequence

from bot.intake.authenticity import (
    Authenticity,
    AuthResult,
    aligned,
    authenticate,
    domain_of,
    newest_verdicts,
    own_from_domain,
    trusted_results,
)
from bot.intake.message import ParsedMail


def _about_sender(result: AuthResult, from_domain: str, own_domains: Sequence[str]) -> bool:
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


def failed_verdict(
    mail: ParsedMail, *, own_domains: Sequence[str], trusted_authserv_ids: Sequence[str]
) -> str:
    """Why the council's own mail system says this own-domain From is forged; "" if it does not.

    Only `fail` counts (not softfail, neutral or temperror): an explicit verdict that the
    message did not come from where it says, written by a server the config trusts.
    """
    ours = [d.strip().lower().lstrip("@").rstrip(".") for d in own_domains]
    from_domain, _ = own_from_domain(mail, ours)
    if not from_domain:
        return ""
    found, _ = trusted_results(mail, trusted_authserv_ids)
    failed = [
        f"{server} reports {result.describe()}"
        for server, result in newest_verdicts(found)
        if result.method in ("dmarc", "dkim", "spf")
        and result.result == "fail"
        and _about_sender(result, from_domain, ours)
    ]
    if not failed:
        return ""
    return (
        f"From says {from_domain} but the council's own mail system found it forged: "
        + "; ".join(failed)
    )


def commands_trusted(
    mail: ParsedMail,
    *,
    own_domains: Sequence[str],
    trusted_authserv_ids: Sequence[str],
    trust_m365_internal: bool,
    require_authenticated: bool,
) -> Authenticity:
    """`authenticate`, except that a config not requiring it (local demo) lets mail through.

    A failed SPF, DKIM or DMARC verdict on an own-domain sender refuses the mail whatever the
    config says: `require_authenticated_commands: false` means "no server stamps this
    mailbox", never "believe mail a server has found forged".
    """
    forged = failed_verdict(
        mail, own_domains=own_domains, trusted_authserv_ids=trusted_authserv_ids
    )
    if forged:
        return Authenticity(False, "", forged)
    verdict = authenticate(
        mail,
        own_domains=own_domains,
        trusted_authserv_ids=trusted_authserv_ids,
        trust_m365_internal=trust_m365_internal,
    )
    if verdict.authenticated or require_authenticated:
        return verdict
    return Authenticity(
        True, "not-required", f"require_authenticated_commands is false ({verdict.reason})"
    )
