"""Validating an upload before it goes anywhere: its type, size, pixel count and content.

Trust nothing the client says about a file. The name and the declared MIME type are typed by
the sender; the type is read from the file's first bytes (its "magic number", with
``filetype``). Limits come before work: the byte size before anything is parsed, the pixel
count from the image header before a pixel is decoded (a 50 KB PNG can decode to gigabytes: a
decompression bomb). Then the file must actually decode: a truncated image or PDF fails here,
not inside the model call. PDFs that carry scripts or encryption are refused outright.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from course_lib.errors import UploadRejectedError

if TYPE_CHECKING:
    from pypdf.generic import DictionaryObject

__all__ = ["IMAGE_TYPES", "Upload", "UploadLimits", "check_upload"]

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""The image types vision APIs take."""
_PDF = "application/pdf"


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be. The defaults follow the usual API limits (20 MB per image)."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000  # below Pillow's own bomb warning (about 89 million)
    max_pages: int = 100


@dataclass(frozen=True)
class Upload:
    """An accepted upload: its sniffed type, and its size in pixels or pages."""

    mime: str
    size_bytes: int
    width: int = 0
    height: int = 0
    pages: int = 0


def check_upload(data: bytes, limits: UploadLimits | None = None) -> Upload:
    """The upload described, or :class:`UploadRejectedError` with one line saying why.

    Only the bytes are read: pass no file name or declared type, because neither can be
    trusted.
    """
    limits = limits or UploadLimits()
    if not data:
        raise UploadRejectedError("the file is empty.")
    if len(data) > limits.max_bytes:
        raise UploadRejectedError(
            f"the file is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.1f} MB."
        )
    import filetype  # type: ignore[import-untyped]

    kind = filetype.guess(data)
    if kind is None:
        raise UploadRejectedError("its bytes are not an image or a PDF (unknown type).")
    mime = str(kind.mime)
    if mime in IMAGE_TYPES:
        return _check_image(data, mime, limits)
    if mime == _PDF:
        return _check_pdf(data, limits)
    raise UploadRejectedError(f"its bytes are {mime}, not an image or a PDF.")


def _check_image(data: bytes, mime: str, limits: UploadLimits) -> Upload:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # our own limit decides, with our own message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
                if width * height > limits.max_pixels:
                    raise UploadRejectedError(
                        f"the image is {width:,} x {height:,} pixels "
                        f"({width * height:,}); the limit is {limits.max_pixels:,} "
                        "(a decompression bomb?)."
                    )
                image.load()  # decodes: a truncated file fails here
    except UploadRejectedError:
        raise
    except Image.DecompressionBombError:
        raise UploadRejectedError(
            "the image header promises more than twice Pillow's pixel limit "
            f"({Image.MAX_IMAGE_PIXELS:,}): a decompression bomb."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRejectedError(
            f"the image does not decode: truncated or corrupt ({type(exc).__name__})."
        ) from None
    return Upload(mime, len(data), width=width, height=height)


def _check_pdf(data: bytes, limits: UploadLimits) -> Upload:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if b"%%EOF" not in data[-1024:]:
        raise UploadRejectedError("the PDF is truncated (no %%EOF end marker).")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UploadRejectedError("the PDF is encrypted; ask for an unprotected copy.")
        root = cast("DictionaryObject", reader.trailer["/Root"].get_object())
        names = cast("DictionaryObject | None", root.get("/Names"))
        action = root.get("/OpenAction")
        action = action.get_object() if action is not None else None
        scripted = (
            (isinstance(action, dict) and action.get("/S") == "/JavaScript")
            or "/AA" in root
            or (names is not None and "/JavaScript" in cast("DictionaryObject", names.get_object()))
            or b"/JavaScript" in data  # also in objects the catalogue does not point at
        )
        if scripted:
            raise UploadRejectedError("the PDF carries JavaScript (a script or an /AA trigger).")
        pages = len(reader.pages)
    except UploadRejectedError:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, OSError) as exc:
        raise UploadRejectedError(
            f"the PDF does not parse: truncated or corrupt ({type(exc).__name__})."
        ) from None
    if pages == 0:
        raise UploadRejectedError("the PDF has no pages.")
    if pages > limits.max_pages:
        raise UploadRejectedError(f"the PDF has {pages} pages; the limit is {limits.max_pages}.")
    return Upload(_PDF, len(data), pages=pages)
