"""What one visitor may upload in a day, and no upload while the disk is nearly full.

Gradio stores an upload before any handler sees it, so the bound stands in
front of Gradio's upload route, as ASGI middleware (:class:`UploadGuard`):

- each upload's declared size (its ``Content-Length``; the largest upload
  allowed when it declares none) counts against the visitor's
  :data:`~voiceclone.limits.MAX_UPLOAD_MB_PER_DAY` (the visitor as the rate
  limit knows them: :func:`webapp.session.visitor_key`), in the same
  database as the rate limit; past it the upload is refused with 429;
- while the disk is nearly full (:func:`~voiceclone.safety.storage.check_free_space`)
  every upload is refused with 507.

The refusal is one line of plain text, which the page shows as the upload's error.
"""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from voiceclone import limits
from voiceclone.safety.rate import Allowance, RateLimitError
from voiceclone.safety.storage import MB, StorageError, check_free_space
from webapp import session as visitor

UPLOAD_PATH = "/gradio_api/upload"
DAY_S = 86_400.0


class UploadAllowance(Allowance):
    """Bytes one visitor may upload per day."""

    def __init__(self) -> None:
        super().__init__("upload bytes", limits.MAX_UPLOAD_MB_PER_DAY * MB, DAY_S)

    def refusal(self, held: float, wait_s: float) -> str:
        return (
            f"you have uploaded {held / MB:.0f} MB today, and one visitor may upload "
            f"{self.limit / MB:.0f} MB a day: try again in {wait_s / 3600:.1f} hours"
        )


_ALLOWANCE = UploadAllowance()


def _admit(request: Request) -> None:
    check_free_space()
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else limits.MAX_UPLOAD_BYTES
    _ALLOWANCE.take(visitor.visitor_key(request), float(size))


class UploadGuard:
    """ASGI middleware: counts and may refuse each upload before Gradio stores it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == UPLOAD_PATH:
            try:
                await anyio.to_thread.run_sync(_admit, Request(scope))
            except StorageError as exc:
                await PlainTextResponse(str(exc), status_code=507)(scope, receive, send)
                return
            except RateLimitError as exc:
                await PlainTextResponse(str(exc), status_code=429)(scope, receive, send)
                return
        await self.app(scope, receive, send)
