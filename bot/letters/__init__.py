"""Letters and emails: templates rendered to text and HTML, then composed into MIME messages."""

from bot.letters.compose import compose, message_id_for, subject_with_reference
from bot.letters.render import Rendered, Renderer, sample_context

__all__ = [
    "Rendered",
    "Renderer",
    "compose",
    "message_id_for",
    "sample_context",
    "subject_with_reference",
]
