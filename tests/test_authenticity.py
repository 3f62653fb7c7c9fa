"""Who may give commands: council mail authenticated by Exchange or by our own mail server."""

from __future__ import annotations

import pytest

from bot.intake.authenticity import (
    Authenticity,
    authenticate,
    parse_authentication_results,
)
from bot.intake.command_trust import commands_trusted
from bot.intake.parse import parse_mail

OWN = ["council.example"]
MX = "mx.council.example"
JANE = "Jane Smith <jane.smith@council.example>"


def _raw(headers: str, sender: str = JANE) -> bytes:
    text = (
        headers.strip("\n")
        + f"\nFrom: {sender}\nTo: contract.concerns@council.example\n"
        + "Subject: APPROVE CC-2026-001\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n"
        + "Message-ID: <a1@council.example>\n\nApproved.\n"
    )
    return text.lstrip("\n").encode("utf-8")


def _check(
    headers: str = "",
    *,
    sender: str = JANE,
    trusted: tuple[str, ...] = (MX,),
    m365: bool = False,
) -> Authenticity:
    mail = parse_mail(_raw(headers, sender))
    return authenticate(
        mail, own_domains=OWN, trusted_authserv_ids=trusted, trust_m365_internal=m365
    )


def _accepted(
    how: str,
    headers: str,
    *,
    sender: str = JANE,
    trusted: tuple[str, ...] = (MX,),
    m365: bool = False,
) -> None:
    verdict = _check(headers, sender=sender, trusted=trusted, m365=m365)
    assert verdict.authenticated, verdict.reason
    assert verdict.how == how


def _refused(headers: str, because: str, *, sender: str = JANE, m365: bool = False) -> str:
    verdict = _check(headers, sender=sender, m365=m365)
    assert not verdict.authenticated
    assert verdict.how == ""
    assert because in verdict.reason, verdict.reason
    return verdict.reason


# Accepted: each way in


def test_dmarc_pass_for_the_from_domain() -> None:
    _accepted("dmarc", f"Authentication-Results: {MX}; dmarc=pass header.from=council.example")


def test_dkim_pass_with_the_from_domain_as_signer() -> None:
    _accepted("dkim", f"Authentication-Results: {MX}; dkim=pass header.d=council.example")


def test_dkim_signed_by_a_subdomain_is_aligned() -> None:
    _accepted("dkim", f"Authentication-Results: {MX}; dkim=pass header.d=mail.council.example")


def test_dkim_identity_alone_is_enough_when_header_d_is_missing() -> None:
    _accepted("dkim", f"Authentication-Results: {MX}; dkim=pass header.i=@mail.council.example")


def test_spf_pass_with_an_aligned_envelope_sender() -> None:
    _accepted(
        "spf", f"Authentication-Results: {MX}; spf=pass smtp.mailfrom=bounces@out.council.example"
    )


def test_results_of_several_milters_from_our_server_all_count() -> None:
    headers = (
        f"Authentication-Results: {MX}; spf=softfail smtp.mailfrom=jane.smith@council.example\n"
        f"Authentication-Results: {MX}; dkim=pass header.d=partner.example;\n"
        "\tdkim=pass header.d=council.example\n"
    )
    _accepted("dkim", headers)


def test_a_second_trusted_server_counts_too() -> None:
    headers = (
        "Authentication-Results: relay.council.example; none\n"
        f"Authentication-Results: {MX}; dmarc=pass header.from=council.example\n"
    )
    _accepted("dmarc", headers, trusted=(MX, "relay.council.example"))


def test_exchange_internal_sender() -> None:
    headers = (
        "X-MS-Exchange-Organization-AuthSource: AB1PR01MB0001.eurprd01.prod.exchangelabs.com\n"
        "X-MS-Exchange-Organization-AuthAs: Internal\n"
        "X-MS-Exchange-Organization-AuthMechanism: 04\n"
    )
    verdict = _check(headers, m365=True, trusted=())
    assert verdict == Authenticity(
        True,
        "m365-internal",
        "Exchange authenticated the sender as internal by "
        "AB1PR01MB0001.eurprd01.prod.exchangelabs.com",
    )


def test_the_same_check_by_case_insensitive_names_and_values() -> None:
    headers = (
        "AUTHENTICATION-RESULTS: MX.Council.Example;\n"
        "  DKIM=PASS Header.D=Council.EXAMPLE.\n"
        "x-ms-exchange-organization-authas: internal\n"
    )
    _accepted("m365-internal", headers, m365=True)
    _accepted("dkim", headers, m365=False, sender="Jane <Jane.Smith@COUNCIL.example>")


# Refused


def test_lookalike_from_domain_is_not_the_council() -> None:
    headers = f"Authentication-Results: {MX}; dmarc=pass header.from=council.example.evil.test"
    reason = _refused(
        headers,
        "From domain council.example.evil.test is not one of the council's domains",
        sender="jane.smith@council.example.evil.test",
    )
    assert reason.endswith("(council.example)")


@pytest.mark.parametrize("signer", ["council.example.evil.test", "evilcouncil.example"])
def test_dkim_pass_for_a_lookalike_signer_is_not_aligned(signer: str) -> None:
    reason = _refused(
        f"Authentication-Results: {MX}; dkim=pass header.d={signer}",
        "From says council.example but no trusted Authentication-Results pass",
    )
    assert f"dkim pass (header.d={signer})" in reason


def test_dkim_fail_is_reported() -> None:
    _refused(
        f'Authentication-Results: {MX}; dkim=fail reason="bad signature" header.d=council.example',
        f"{MX} reports dkim fail (header.d=council.example)",
    )


def test_dmarc_pass_for_another_from_domain_does_not_count() -> None:
    _refused(
        f"Authentication-Results: {MX}; dmarc=pass header.from=partner.example",
        "dmarc pass (header.from=partner.example)",
    )


def test_a_dmarc_fail_outweighs_a_spf_pass() -> None:
    headers = (
        f"Authentication-Results: {MX}; spf=pass smtp.mailfrom=council.example;\n"
        " dmarc=fail header.from=council.example\n"
    )
    _refused(headers, "DMARC failed")


def test_an_untrusted_server_is_named() -> None:
    _refused(
        "Authentication-Results: mx.attacker.example; dmarc=pass header.from=council.example",
        "Authentication-Results from mx.attacker.example is not a trusted server",
    )


def test_a_forged_pass_below_our_servers_fail_is_ignored() -> None:
    headers = (
        f"Authentication-Results: {MX}; dkim=fail header.d=council.example\n"
        "Received: from mx.attacker.example by mx.council.example\n"
        "Authentication-Results: mx.attacker.example; dmarc=pass header.from=council.example\n"
    )
    _refused(headers, "dkim fail")


def test_our_servers_name_below_a_stranger_is_a_forgery() -> None:
    headers = (
        f"Authentication-Results: {MX}; spf=fail smtp.mailfrom=council.example\n"
        "Authentication-Results: relay.attacker.example; spf=pass smtp.mailfrom=council.example\n"
        f"Authentication-Results: {MX}; dmarc=pass header.from=council.example\n"
    )
    _refused(headers, "spf fail")


def test_a_later_verdict_with_our_name_cannot_overrule_the_first() -> None:
    headers = (
        f"Authentication-Results: {MX}; dkim=fail header.d=council.example\n"
        f"Authentication-Results: {MX}; dkim=pass header.d=council.example\n"
    )
    _refused(headers, "dkim fail")


def test_exchange_online_results_name_no_server_so_are_not_trusted() -> None:
    headers = (
        "Authentication-Results: spf=pass (sender IP is 192.0.2.1)\n"
        " smtp.mailfrom=council.example; dkim=pass (signature was verified)\n"
        " header.d=council.example;dmarc=pass action=none header.from=council.example;\n"
        " compauth=pass reason=100\n"
    )
    _refused(headers, "from a server that does not name itself is not a trusted server")


def test_no_results_at_all() -> None:
    _refused("", "there is no Authentication-Results header")
    _refused(f"Authentication-Results: {MX}; none", "our server reports no results")


def test_exchange_anonymous_sender_is_refused() -> None:
    headers = "X-MS-Exchange-Organization-AuthAs: Anonymous\n"
    reason = _refused(
        headers, "X-MS-Exchange-Organization-AuthAs is Anonymous, not Internal", m365=True
    )
    assert "there is no Authentication-Results header" in reason


def test_exchange_header_is_ignored_unless_the_config_trusts_it() -> None:
    _refused("X-MS-Exchange-Organization-AuthAs: Internal\n", "no Authentication-Results header")


def test_exchange_header_given_twice_is_refused() -> None:
    headers = "X-MS-Exchange-Organization-AuthAs: Internal\n" * 2
    _refused(headers, "appears more than once", m365=True)


def test_exchange_internal_does_not_vouch_for_an_outside_from() -> None:
    _refused(
        "X-MS-Exchange-Organization-AuthAs: Internal\n",
        "From domain partner.example is not one of the council's domains",
        m365=True,
        sender="someone@partner.example",
    )


def test_two_from_headers_or_two_authors_are_refused() -> None:
    good = f"Authentication-Results: {MX}; dmarc=pass header.from=council.example\n"
    _refused(good + "From: boss@evil.test\n", "has 2 From headers")
    _refused(good, "From names 2 addresses", sender="jane.smith@council.example, boss@evil.test")


def test_a_display_name_with_a_comma_is_one_author() -> None:
    good = f"Authentication-Results: {MX}; dmarc=pass header.from=council.example\n"
    _accepted("dmarc", good, sender="=?utf-8?q?Smith=2C_Jane?= <jane.smith@council.example>")


def test_no_from_address() -> None:
    _refused("", "has no From address", sender="Undisclosed")


# Reading RFC 8601


def test_parser_reads_comments_quotes_versions_and_spacing() -> None:
    header = parse_authentication_results(
        '"MX.Council.Example" 1 (our edge; trusted=yes); dkim / 1 = pass (good; d=evil.test)\n'
        ' reason="all \\"fine\\"" header . d = "council.example" header.b=AbC123;\n'
        " spf=softfail (no (nested) pass) smtp.mailfrom=x@y.example"
    )
    assert header.authserv_id == "mx.council.example"
    assert [(r.method, r.result) for r in header.results] == [("dkim", "pass"), ("spf", "softfail")]
    assert header.results[0].props == {
        "reason": 'all "fine"',
        "header.d": "council.example",
        "header.b": "abc123",
    }
    assert header.results[1].props == {"smtp.mailfrom": "x@y.example"}


def test_parser_survives_garbage() -> None:
    for value in ["", ";;;", "(unclosed", '"unclosed', "mx; =pass", "mx; dkim=", "= = ="]:
        header = parse_authentication_results(value)
        assert all(r.method for r in header.results)
    assert parse_authentication_results("mx; none").results == ()


def test_a_comment_saying_pass_does_not_make_a_pass() -> None:
    _refused(
        f"Authentication-Results: {MX}; dkim=fail (pass) header.d=council.example", "dkim fail"
    )


# The config switch


def test_commands_trusted_lets_unauthenticated_mail_through_only_when_not_required() -> None:
    mail = parse_mail(_raw(""))

    def verdict(required: bool) -> Authenticity:
        return commands_trusted(
            mail,
            own_domains=OWN,
            trusted_authserv_ids=[MX],
            trust_m365_internal=False,
            require_authenticated=required,
        )

    strict = verdict(True)
    assert not strict.authenticated and strict.how == ""
    demo = verdict(False)
    assert (demo.authenticated, demo.how) == (True, "not-required")
    assert "there is no Authentication-Results header" in demo.reason


def _commands(headers: str, *, required: bool, sender: str = JANE) -> Authenticity:
    return commands_trusted(
        parse_mail(_raw(headers, sender)),
        own_domains=OWN,
        trusted_authserv_ids=[MX],
        trust_m365_internal=True,
        require_authenticated=required,
    )


@pytest.mark.parametrize(
    "result",
    [
        "dmarc=fail header.from=council.example",
        "spf=fail smtp.mailfrom=jane.smith@council.example",
        "dkim=fail header.d=council.example",
        "dkim=fail header.d=mail.council.example",  # aligned: a subdomain of ours
    ],
)
@pytest.mark.parametrize("required", [True, False])
def test_a_failed_verdict_from_our_server_is_never_obeyed(result: str, required: bool) -> None:
    # Even beside Exchange's internal stamp and a pass of another method: a failed check
    # written by the council's own server is the strongest evidence there is.
    headers = (
        f"Authentication-Results: {MX}; {result}; dkim=pass header.d=council.example\n"
        "X-MS-Exchange-Organization-AuthAs: Internal\n"
    )
    verdict = _commands(headers, required=required)
    assert not verdict.authenticated and verdict.how == ""
    method = result.split("=")[0]
    assert "found it forged" in verdict.reason and f"{method} fail" in verdict.reason


@pytest.mark.parametrize(
    "headers",
    [
        # Written by a server the config does not trust: anyone could have put it there.
        "Authentication-Results: mx.elsewhere.example; dmarc=fail header.from=council.example",
        # A fail about some other domain says nothing about the council's sender.
        f"Authentication-Results: {MX}; dkim=fail header.d=mailer.example",
        f"Authentication-Results: {MX}; spf=softfail smtp.mailfrom=jane.smith@council.example",
    ],
)
def test_other_verdicts_leave_the_demo_switch_in_charge(headers: str) -> None:
    assert _commands(headers, required=False).how == "not-required"
    assert not _commands(headers, required=True).authenticated
