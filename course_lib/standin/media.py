"""Image and PDF content parts for the stand-in: checked, counted and read as far as it can.

The stand-in cannot see pixels. What it reads, it says plainly:

* from a PNG, the text the file carries in its metadata: the ``Description`` text chunk. The
  course's lab writes there the text it drew, with the glyph height it drew it at
  (``course:text_px``) and the width it drew it at (``course:drawn_width``). From those the
  stand-in works out how tall the text is once the provider has scaled the image for the
  chosen detail, and reads it only if that is at least :data:`LEGIBLE_PX` pixels: a planted
  rule standing in for a real model's eyesight, not a measured one;
* from a PDF, its text layer (pypdf). A scanned page has none, so the stand-in finds nothing
  there; a real vision model also receives an image of each page and could read it.

Tokens follow the provider's formula (:func:`course_lib.media.image_tokens`, constants from
the registry entry); a PDF costs its text plus one low-detail image per page (OpenAI sends a
page image too, but does not publish its size: your bill shows the real figure).
Each part becomes a text part such as ``[image-1] ...`` or ``[handbook.pdf#p2] ...``,
which the stand-in then reads as it reads any passage.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.media import (
    DETAILS,
    VisionPricing,
    image_tokens,
    pdf_page_texts,
    scaled_for_tiles,
    vision_pricing,
)
from course_lib.media.uploads import IMAGE_TYPES
from course_lib.models import ModelSpec
from course_lib.standin.errors import InvalidRequestError

__all__ = ["LEGIBLE_PX", "LOW_DETAIL_SIDE", "MediaRead", "read_media", "seen_glyph_px"]

LEGIBLE_PX = 8.0
"""Planted: the smallest glyph height, in pixels after the provider's scaling, the stand-in
reads. Real models have no published threshold; they misread small text gradually."""
LOW_DETAIL_SIDE = 512
"""At ``detail="low"`` the model sees the image scaled to fit in 512 x 512."""

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+);base64,(.*)$", re.S)


@dataclass(frozen=True)
class MediaRead:
    """The request with its image and file parts replaced by what the stand-in read, and the
    tokens those parts cost (on top of the text's)."""

    request: Mapping[str, Any]
    media_tokens: int
    parts: int


def read_media(request: Mapping[str, Any], spec: ModelSpec) -> MediaRead:
    """Check, count and read every image and file part of ``request``'s messages."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not any(_has_media(m) for m in messages):
        return MediaRead(request, 0, 0)
    pricing: VisionPricing | None = None
    tokens, count, new_messages = 0, 0, []
    for i, message in enumerate(messages):
        if not _has_media(message):
            new_messages.append(message)
            continue
        if message.get("role") != "user":
            raise InvalidRequestError(
                f"messages[{i}] is a {message.get('role')} message with an image or file: "
                "only user messages may carry them.",
                param=f"messages[{i}].content",
            )
        if pricing is None:
            try:
                pricing = vision_pricing(spec)
            except ValueError as exc:
                raise InvalidRequestError(str(exc), param="model") from None
        parts = []
        for j, part in enumerate(message["content"]):
            kind = part.get("type") if isinstance(part, Mapping) else None
            where = f"messages[{i}].content[{j}]"
            if kind == "image_url":
                count += 1
                text, cost = _read_image(part, where, count, pricing)
            elif kind == "file":
                count += 1
                text, cost = _read_file(part, where, pricing)
            else:
                parts.append(part)
                continue
            tokens += cost
            parts.append({"type": "text", "text": text})
        new_messages.append({**message, "content": parts})
    return MediaRead({**request, "messages": new_messages}, tokens, count)


def _has_media(message: Any) -> bool:
    content = message.get("content") if isinstance(message, Mapping) else None
    return isinstance(content, list) and any(
        isinstance(p, Mapping) and p.get("type") in ("image_url", "file") for p in content
    )


def _decode(url: Any, where: str, what: str) -> tuple[str, bytes]:
    if not isinstance(url, str) or not url:
        raise InvalidRequestError(f"Missing {what} data at '{where}'.", param=where)
    if url.startswith(("http://", "https://")):
        raise InvalidRequestError(
            f"'{where}' is a URL; this server runs offline and fetches nothing. Send the "
            "file inline as a data URL (data:<type>;base64,...).",
            param=where,
        )
    match = _DATA_URL.match(url)
    if match is None:
        raise InvalidRequestError(
            f"'{where}' is not a data URL: expected data:<type>;base64,<data>.", param=where
        )
    try:
        return match.group(1), base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(f"'{where}' holds invalid base64.", param=where) from None


def seen_glyph_px(text_px: float, drawn_width: int, width: int, height: int, detail: str) -> float:
    """How tall text drawn ``text_px`` high at ``drawn_width`` is once the image, now
    ``width`` x ``height``, has been scaled by the provider for ``detail``."""
    if detail == "low":
        scale = min(1.0, LOW_DETAIL_SIDE / max(width, height))
    else:
        scale = scaled_for_tiles(width, height)[0] / width
    return text_px * (width / drawn_width) * scale


def _read_image(
    part: Mapping[str, Any], where: str, number: int, pricing: VisionPricing
) -> tuple[str, int]:
    from PIL import Image, UnidentifiedImageError

    body = part.get("image_url")
    if not isinstance(body, Mapping):
        raise InvalidRequestError(
            f'\'{where}.image_url\' must be an object {{"url": ..., "detail": ...}}.',
            param=f"{where}.image_url",
        )
    detail = body.get("detail", "auto")
    if detail not in DETAILS:
        raise InvalidRequestError(
            f"Invalid '{where}.image_url.detail': {detail!r}; expected one of {list(DETAILS)}.",
            param=f"{where}.image_url.detail",
        )
    mime, data = _decode(body.get("url"), f"{where}.image_url.url", "image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            found = image.format
            chunks = {k: v for k, v in getattr(image, "text", {}).items() if isinstance(v, str)}
    except (UnidentifiedImageError, OSError):
        found, chunks, width, height = None, {}, 0, 0
    if found is None or f"image/{found.lower()}" not in IMAGE_TYPES:
        raise InvalidRequestError(
            f"You uploaded an unsupported image at '{where}' (declared {mime}). Send a PNG, "
            "JPEG, GIF or WEBP image.",
            param=f"{where}.image_url.url",
            code="invalid_image_format",
        )
    cost = image_tokens(width, height, str(detail), pricing)
    label = f"[image-{number}]"
    text = chunks.get("Description", "").strip()
    if not text:
        return f"{label} (no text the stand-in can read: it sees no pixels)", cost
    try:
        text_px = float(chunks.get("course:text_px", "nan"))
        drawn = int(chunks.get("course:drawn_width", width))
    except ValueError:
        text_px, drawn = float("nan"), width
    if text_px == text_px:  # not NaN: the lab said how big the text was drawn
        seen = seen_glyph_px(text_px, drawn, width, height, str(detail))
        if seen < LEGIBLE_PX:
            return (
                f"{label} (text too small to read: {seen:.1f} px high at detail {detail})",
                cost,
            )
    return f"{label} {' '.join(text.split())}", cost


def _read_file(part: Mapping[str, Any], where: str, pricing: VisionPricing) -> tuple[str, int]:
    from course_lib.errors import UploadRejectedError

    body = part.get("file")
    if not isinstance(body, Mapping):
        raise InvalidRequestError(
            f'\'{where}.file\' must be an object {{"filename": ..., "file_data": ...}}.',
            param=f"{where}.file",
        )
    name = str(body.get("filename") or "file.pdf")
    mime, data = _decode(body.get("file_data"), f"{where}.file.file_data", "file")
    if mime != "application/pdf" or not data.startswith(b"%PDF"):
        raise InvalidRequestError(
            f"'{where}' is not a PDF: Chat Completions takes only PDFs as file parts. Send "
            "other files' text as a text part.",
            param=f"{where}.file.file_data",
            code="invalid_file_format",
        )
    try:
        pages = pdf_page_texts(data)
    except UploadRejectedError as exc:
        raise InvalidRequestError(f"'{where}': {exc}", param=f"{where}.file.file_data") from None
    lines = []
    for number, page in enumerate(pages, start=1):
        text = "\n".join(line.strip() for line in page.splitlines() if line.strip())
        lines.append(f"[{_safe(name)}#p{number}] {text or '(no text layer on this page)'}")
    return "\n".join(lines), pricing.base_tokens * len(pages)


def _safe(name: str) -> str:
    """The file name as a passage id: letters, digits and ``_.-`` only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or "file"
