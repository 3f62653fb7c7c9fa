"""What a provider is given of a concern: the approved copy, and whether it names the referrer."""

from __future__ import annotations

from functools import lru_cache

from bot.config import Config
from bot.config.lookups import domain_of
from bot.intake.attachments import AttachedFile, attached_files, attachment_names
from bot.letters.concern_copy import clean_concern, redact
from bot.procedure.case import Case
from bot.store import Store

# Keys of a case's data (set by the procedure's commands, see rules/procedure.yaml).
COPY = "concern_copy"
IDENTITY = "referrer_identity"
ATTACHMENTS = "concern_attachments"


def referrer_withheld(case: Case, config: Config) -> bool:
    """The case's own setting, else the configured default."""
    return (case.data.get(IDENTITY) or config.letters.referrer_identity) != "shared"


def keeps_attachments(case: Case, config: Config) -> bool:
    return (case.data.get(ATTACHMENTS) or config.letters.concern_attachments) == "keep"


def referrer_names(case: Case, config: Config) -> list[str]:
    person = config.person_by_email(case.referrer)
    return [name for name in (case.referrer_name, person.name if person else "") if name]


def automatic_copy(case: Case, config: Config) -> str:
    """The referral's own words: no headers, quoted history, greeting or signature; email
    addresses out (other than the provider's own), and the referrer's name when withheld."""
    provider = config.provider(case.provider_id) if case.provider_id else None
    keep = {domain_of(address) for address in provider.contacts} if provider else set()
    keep -= {*config.council.own_domains, *config.referrer_domains}
    names = referrer_names(case, config) if referrer_withheld(case, config) else []
    return _copy(case.concern_text, tuple(names), tuple(sorted(keep)))


@lru_cache(maxsize=256)
def _copy(text: str, names: tuple[str, ...], keep: tuple[str, ...]) -> str:
    # Every letter on a case renders its copy; made once per case, not once per letter.
    return redact(clean_concern(text), names=names, keep_domains=keep)


def concern_copy(case: Case, config: Config) -> str:
    """The copy a provider receives: as the officer approved or wrote it, else the automatic one."""
    approved = case.data.get(COPY)
    return approved if isinstance(approved, str) else automatic_copy(case, config)


def copy_attachments(case: Case, config: Config, store: Store) -> list[AttachedFile]:
    """The referral's attachments that go with the copy: none unless the case keeps them."""
    if not keeps_attachments(case, config) or not case.concern_sha:
        return []
    return attached_files(store.load_raw(case.concern_sha))


def referral_attachment_names(case: Case, store: Store) -> list[str]:
    """Every file attached to the referral, for the officer deciding whether to keep them."""
    if not case.concern_sha:
        return []
    return attachment_names(store.load_raw(case.concern_sha))
