"""Kept mail and attachments as downloads: never shown inline, never sniffed, never run."""

from __future__ import annotations

from starlette.responses import Response

from bot.views.web.mailview import safe_filename

# A download that a browser opened anyway could run nothing and load nothing.
_SANDBOX = "sandbox; default-src 'none'"


def download(
    data: bytes, filename: str, content_type: str = "application/octet-stream"
) -> Response:
    """`data` as an attachment; nosniff comes with every response (bot.views.web.security)."""
    name = safe_filename(filename, "download")
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Security-Policy": _SANDBOX,
        },
    )
