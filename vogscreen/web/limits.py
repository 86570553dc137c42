"""The limit on a request body's size, applied while it streams in.

Starlette's :class:`~starlette.middleware.body_limit.RequestBodyLimitMiddleware` (through
FastAPI's ``max_body_size``) refuses a body with 413 as soon as its ``Content-Length`` says
it is too large, before a byte of it is read, and otherwise counts the bytes as they
arrive and stops at the first chunk past the limit: also when the ``Content-Length``
understates the body or is missing (a chunked upload). It covers the whole portal, the
API and the pages. The answer is a problem document under ``/api``
(:mod:`vogscreen.web.problems`).
"""

from __future__ import annotations

from vogscreen.runtime.settings import Settings

# A multipart body carries the file and, around it, boundaries, part headers and the
# other fields: room for those, so that a file just under the limit still gets its report.
MULTIPART_ALLOWANCE = 64 * 1024


def max_body_size(settings: Settings) -> int:
    """The largest request body the portal reads: the largest file, plus the envelope."""
    return settings.max_upload_bytes + MULTIPART_ALLOWANCE
