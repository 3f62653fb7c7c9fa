"""Whether an email's instructions may be obeyed: authenticated, never against a failed check."""

from __future__ import annotations

from collections.abc import Sequence

from bot.intake.authenticity import (
    Authenticity,
    about_sender,
    authenticate,
    newest_verdicts,
    own_domain_names,
    own_from_domain,
    trusted_results,
)
from bot.intake.message import ParsedMail


def failed_verdict(
    mail: ParsedMail, *, own_domains: Sequence[str], trusted_authserv_ids: Sequence[str]
) -> str:
    """Why the council's own mail system says this own-domain From is forged; "" if it does not.

    Only `fail` counts (not softfail, neutral or temperror): an explicit verdict that the
    message did not come from where it says, written by a server the config trusts.
    """
    ours = own_domain_names(own_domains)
    from_domain, _ = own_from_domain(mail, ours)
    if not from_domain:
        return ""
    found, _ = trusted_results(mail, trusted_authserv_ids)
    failed = [
        f"{server} reports {result.describe()}"
        for server, result in newest_verdicts(found)
        if result.method in ("dmarc", "dkim", "spf")
        and result.result == "fail"
        and about_sender(result, from_domain, ours)
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
