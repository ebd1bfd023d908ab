"""Plausible wrong answers to lesson 1.7's exercises; each must be rejected by its checker."""

from __future__ import annotations

import base64
import io
import warnings
from typing import Any

import filetype

from course_lib.labs.upload_lab import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, prototype_validator
from course_lib.media import check_upload, fit_within, image_tokens

# --- 1.7.1 image_message -------------------------------------------------------------------


def _url(data: bytes, mime: str = "") -> str:
    mime = mime or filetype.guess(data).mime
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _always_png(question: str, data: bytes, detail: str) -> dict[str, Any]:
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    image = {"type": "image_url", "image_url": {"url": url, "detail": detail}}
    return {"role": "user", "content": [{"type": "text", "text": question}, image]}


def _bare_base64(question: str, data: bytes, detail: str) -> dict[str, Any]:
    image = {
        "type": "image_url",
        "image_url": {"url": base64.b64encode(data).decode(), "detail": detail},
    }
    return {"role": "user", "content": [{"type": "text", "text": question}, image]}


def _anthropic_format(question: str, data: bytes, detail: str) -> dict[str, Any]:
    source = {
        "type": "base64",
        "media_type": filetype.guess(data).mime,
        "data": base64.b64encode(data).decode(),
    }
    return {
        "role": "user",
        "content": [{"type": "text", "text": question}, {"type": "image", "source": source}],
    }


def _url_as_string(question: str, data: bytes, detail: str) -> dict[str, Any]:
    image = {"type": "image_url", "image_url": _url(data)}
    return {"role": "user", "content": [{"type": "text", "text": question}, image]}


def _detail_ignored(question: str, data: bytes, detail: str) -> dict[str, Any]:
    image = {"type": "image_url", "image_url": {"url": _url(data), "detail": "auto"}}
    return {"role": "user", "content": [{"type": "text", "text": question}, image]}


def _question_dropped(question: str, data: bytes, detail: str) -> dict[str, Any]:
    image = {"type": "image_url", "image_url": {"url": _url(data), "detail": detail}}
    return {"role": "user", "content": [image]}


def _system_role(question: str, data: bytes, detail: str) -> dict[str, Any]:
    image = {"type": "image_url", "image_url": {"url": _url(data), "detail": detail}}
    return {"role": "system", "content": [{"type": "text", "text": question}, image]}


def _hex_payload(question: str, data: bytes, detail: str) -> dict[str, Any]:
    url = f"data:{filetype.guess(data).mime};base64,{data.hex()}"
    image = {"type": "image_url", "image_url": {"url": url, "detail": detail}}
    return {"role": "user", "content": [{"type": "text", "text": question}, image]}


# --- 1.7.2 shrink ----------------------------------------------------------------------------


def _unchanged(image: Any, budget: int) -> tuple[Any, str]:
    return image, "high"


def _always_low(image: Any, budget: int) -> tuple[Any, str]:
    return image, "low"


def _fixed_768(image: Any, budget: int) -> tuple[Any, str]:
    return fit_within(image, 768), "high"


def _fixed_512(image: Any, budget: int) -> tuple[Any, str]:
    return fit_within(image, 512), "high"


def _square(image: Any, budget: int) -> tuple[Any, str]:
    return image.resize((512, 512)), "high"


def _image_only(image: Any, budget: int) -> Any:
    return fit_within(image, 512)


def _medium_detail(image: Any, budget: int) -> tuple[Any, str]:
    return fit_within(image, 512), "medium"


def _auto_detail(image: Any, budget: int) -> tuple[Any, str]:
    """The right size, but leaves the detail to the provider."""
    from course_lib.course.exercises.lesson_1_7 import shrink

    small, _ = shrink(image, budget)
    return small, "auto"


def _halving(image: Any, budget: int) -> tuple[Any, str]:
    """Halves until it fits: within budget, but often far smaller than it had to be."""
    small = image
    while image_tokens(*small.size, "high") > budget:
        small = fit_within(small, max(small.size) // 2)
    return small, "high"


def _never_low(image: Any, budget: int) -> tuple[Any, str]:
    """The largest high-detail size within the budget, but never low detail: it passed while
    no budget was under one tile; a 200-token budget now refuses it."""
    side = max(image.size)
    while side > 1 and image_tokens(*fit_within(image, side).size, "high") > budget:
        side = max(1, side * 9 // 10)
    return fit_within(image, side), "high"


# --- 1.7.3 validate_upload -----------------------------------------------------------------

_ALLOWED = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def _scripted(reader: Any) -> bool:
    """Whether the PDF's catalogue runs JavaScript, read as names (escapes decoded)."""
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names")
    action = root.get("/OpenAction")
    action = action.get_object() if action is not None else None
    return (
        "/AA" in root
        or (names is not None and "/JavaScript" in names.get_object())
        or (isinstance(action, dict) and action.get("/S") == "/JavaScript")
    )


def _correct(data: bytes, filename: str) -> str | None:
    """A right validator, which the wrong answers below break in one place each."""
    from PIL import Image
    from pypdf import PdfReader

    if not data or len(data) > MAX_UPLOAD_BYTES:
        return "size"
    kind = filetype.guess(data)
    mime = kind.mime if kind else "unknown"
    if mime not in _ALLOWED:
        return f"type {mime}"
    if mime == "application/pdf":
        if b"%%EOF" not in data[-1024:]:
            return "truncated"
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return "encrypted"
            return "script" if _scripted(reader) else None
        except Exception as exc:
            return type(exc).__name__
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_UPLOAD_PIXELS:
                    return "pixels"
                image.load()
    except Exception as exc:
        return type(exc).__name__
    return None


def _script_by_bytes(data: bytes, filename: str) -> str | None:
    """Looks for scripts by searching the bytes for /JavaScript: an escaped name (/Java#53cript,
    the same name to every PDF reader) gets through."""
    if filetype.guess_mime(data) == "application/pdf" and data[-1024:].count(b"%%EOF"):
        verdict = _correct(data, filename)
        if verdict == "script":
            return "script" if b"/JavaScript" in data else None
        return verdict
    return _correct(data, filename)


def _sniff_only(data: bytes, filename: str) -> str | None:
    kind = filetype.guess(data)
    if kind is None or kind.mime not in (
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
    ):
        return "not allowed"
    return None


def _names_must_match(data: bytes, filename: str) -> str | None:
    kind = filetype.guess(data)
    verdict = _correct(data, filename)
    if verdict is None and kind is not None and not filename.lower().endswith(kind.extension):
        return f"{filename} is not a .{kind.extension}"
    return verdict


def _pillow_limit_only(data: bytes, filename: str) -> str | None:
    """Trusts Pillow's own bomb limit instead of the lesson's."""
    from PIL import Image

    kind = filetype.guess(data)
    if not data or len(data) > MAX_UPLOAD_BYTES or kind is None:
        return "refused"
    if kind.mime.startswith("image/") and kind.mime != "image/bmp" and kind.mime != "image/tiff":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
        except Exception as exc:
            return type(exc).__name__
        return None
    return _correct(data, filename)


def _no_pdf_checks(data: bytes, filename: str) -> str | None:
    kind = filetype.guess(data)
    if kind is not None and kind.mime == "application/pdf":
        return None
    return _correct(data, filename)


def _deny_list(data: bytes, filename: str) -> str | None:
    """Refuses the kinds it has seen; everything else passes."""
    kind = filetype.guess(data)
    mime = kind.mime if kind else ""
    if mime in ("application/x-msdownload", "application/zip") or data.lstrip().startswith(
        b"<html"
    ):
        return f"refused: {mime or 'html'}"
    if mime == "":
        return _correct(data, filename) if data else "empty"
    return (
        _correct(data, filename)
        if mime in ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
        else None
    )


def _booleans(data: bytes, filename: str) -> Any:
    return _correct(data, filename) is None


def _library(data: bytes, filename: str) -> str | None:
    try:
        check_upload(data)
    except ValueError as exc:
        return str(exc)
    return None


def _open_action_refused(data: bytes, filename: str) -> str | None:
    """Refuses any PDF with an /OpenAction, though fpdf2 adds a harmless one (a zoom)."""
    verdict = _correct(data, filename)
    if verdict is None and b"/OpenAction" in data:
        return "PDF with an automatic action"
    return verdict


def _pixels_from_bytes(data: bytes, filename: str) -> str | None:
    """Guesses the pixel count from the file size: a bomb is small on disk."""
    verdict = _sniff_only(data, filename)
    if verdict is None and len(data) * 50 > MAX_UPLOAD_PIXELS:
        return "too many pixels"
    return verdict


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.7.1": [
        _always_png,
        _bare_base64,
        _anthropic_format,
        _url_as_string,
        _detail_ignored,
        _question_dropped,
        _system_role,
        _hex_payload,
    ],
    "1.7.2": [
        _unchanged,
        _always_low,
        _fixed_768,
        _fixed_512,
        _square,
        _image_only,
        _medium_detail,
        _halving,
        _never_low,
        _auto_detail,
    ],
    "1.7.3": [
        prototype_validator,
        _sniff_only,
        _names_must_match,
        _pillow_limit_only,
        _no_pdf_checks,
        _deny_list,
        _booleans,
        _library,
        _pixels_from_bytes,
        _open_action_refused,
        _script_by_bytes,
    ],
}
