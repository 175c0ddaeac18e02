"""The pages' forms: ``application/x-www-form-urlencoded`` bodies, parsed with the standard library (the forms carry
no files), small ones only."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

MAX_FORM_BYTES = 64 * 1024


class FormTooLarge(Exception):
    pass


async def form(request: Request) -> dict[str, str]:
    """The posted fields (the first value of each; blanks kept as empty strings)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0].strip() for name, values in fields.items()}
