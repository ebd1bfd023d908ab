"""Lesson 1.7's suite of uploads: good files (some misnamed) and bad ones, generated from a seed.

The bad files are the ones a vision endpoint meets: an executable renamed ``.pdf``, HTML
named ``.png``, a ZIP, an empty file, a file over the size limit, decompression bombs (a
small PNG whose header promises more pixels than any server should decode), truncated images
and PDFs, a PDF with JavaScript and an encrypted one. The good files include a PNG named
``.jpeg``, an upper-case extension and a PDF with no extension at all: a validator that trusts
names rejects them. Every file is built in memory, the same for a given seed.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALLOWED_EXTENSIONS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_PIXELS",
    "UploadCase",
    "png_bomb",
    "prototype_validator",
    "score_validator",
    "upload_suite",
]

MAX_UPLOAD_BYTES = 2_000_000
"""The lesson's size limit for one upload."""
MAX_UPLOAD_PIXELS = 25_000_000
"""The lesson's pixel limit: 25 million pixels, about a 6000 x 4000 photo."""
ALLOWED_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf")
"""What the tutorial's validator looks at: the end of the file name."""


@dataclass(frozen=True)
class UploadCase:
    """One upload: what the client sent, and the truth the suite knows about it."""

    filename: str
    data: bytes
    bad: bool
    kind: str


def prototype_validator(data: bytes, filename: str) -> str | None:
    """The tutorial's check: a known extension and not too big. None means accepted."""
    if not filename.lower().endswith(ALLOWED_EXTENSIONS):
        return f"{filename}: extension not allowed"
    if len(data) > MAX_UPLOAD_BYTES:
        return f"{filename}: too large"
    return None


# --- good files ----------------------------------------------------------------------------


def _picture(rng: random.Random, size: tuple[int, int]) -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + size[0] // 5, y + size[1] // 6), fill=colour)
    return image


def _encoded(image: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _pdf(rng: random.Random, pages: int = 1) -> bytes:
    from datetime import datetime, timezone

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))
    pdf.set_font("Helvetica", size=11)
    for page in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"Expense report {rng.randint(100, 999)}, page {page + 1}.")
    return bytes(pdf.output())


# --- bad files -----------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A valid one-bit PNG of ``width`` x ``height`` white pixels: kilobytes on disk,
    ``width * height`` pixels once decoded."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    body = b"".join(compressor.compress(row * 100) for _ in range(height // 100))
    body += compressor.compress(row * (height % 100)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def _pdf_with(rng: random.Random, *, script: bool = False, locked: bool = False) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(rng))))
    if script:
        from pypdf.actions import JavaScript

        writer.add_open_action(JavaScript("app.alert('Log in again to view this form.');"))
    if locked:  # opened only with a code the lab draws and forgets
        writer.encrypt(str(rng.randint(10**5, 10**6)), algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _escaped_names(pdf: bytes) -> bytes:
    """``pdf`` with every ``/JavaScript`` name written ``/Java#53cript``: the same name to
    every PDF reader (``#53`` is an escaped ``S``), but not the same bytes, so a validator
    that searches the bytes for ``/JavaScript`` lets the script through. The cross-reference
    table is rewritten, so the file stays well formed."""
    import re

    table = pdf.rindex(b"\nxref\n") + 1
    body = pdf[:table].replace(b"/JavaScript", b"/Java#53cript")
    offsets = {int(m.group(1)): m.start() for m in re.finditer(rb"(?m)^(\d+) 0 obj", body)}
    size = max(offsets) + 1
    rows = [b"0000000000 65535 f \n"] + [
        b"%010d 00000 n \n" % offsets[number] for number in range(1, size)
    ]
    trailer = pdf[pdf.index(b"trailer", table) : pdf.rindex(b"startxref")]
    return (
        body
        + b"xref\n0 %d\n" % size
        + b"".join(rows)
        + trailer
        + b"startxref\n%d\n%%%%EOF\n" % len(body)
    )


def _noise_png(rng: random.Random, width: int, height: int) -> bytes:
    """A PNG of random pixels, stored uncompressed (zlib level 0): the same bytes with any
    Pillow or zlib, so its size can be printed."""
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 0))
        + _png_chunk(b"IEND", b"")
    )


def upload_suite(seed: int = 0, *, held_out: bool = False) -> list[UploadCase]:
    """The uploads for ``seed``: the lesson's suite, or with ``held_out`` the checker's, which
    adds kinds the lesson never shows (a BMP, a TIFF, an SVG, bombs below Pillow's own limit, a
    script whose name is escaped so that a search of the bytes misses it)."""
    rng = random.Random(seed)
    w, h = rng.choice(((800, 600), (640, 480), (1024, 768)))
    picture = _picture(rng, (w, h))
    png, jpeg = _encoded(picture, "PNG"), _encoded(picture, "JPEG")
    pdf = _pdf(rng, pages=2)
    cases = [
        UploadCase("photo.jpg", jpeg, False, "JPEG"),
        UploadCase("diagram.png", png, False, "PNG"),
        UploadCase("SCAN.PNG", png, False, "PNG, upper-case name"),
        UploadCase("receipt.jpeg", png, False, "a PNG named .jpeg"),
        UploadCase("handbook.pdf", pdf, False, "PDF"),
        UploadCase("report", pdf, False, "PDF with no extension"),
        UploadCase("animation.gif", _encoded(picture.convert("P"), "GIF"), False, "GIF"),
        UploadCase("photo.webp", _encoded(picture, "WEBP"), False, "WebP"),
        UploadCase("invoice.pdf", b"MZ\x90\x00" + rng.randbytes(2000), True, "executable"),
        UploadCase(
            "cat.png", b"<html><script>fetch('/steal')</script></html>", True, "HTML as .png"
        ),
        UploadCase("notes.pdf", _zip(rng), True, "ZIP as .pdf"),
        UploadCase("empty.png", b"", True, "empty"),
        UploadCase("huge.png", _noise_png(rng, 1000, 800), True, "over the size limit"),
        UploadCase("bomb.png", png_bomb(12_000, 12_000), True, "decompression bomb"),
        UploadCase("cut.jpg", jpeg[: len(jpeg) * 3 // 5], True, "truncated JPEG"),
        UploadCase("cut.pdf", pdf[: len(pdf) * 7 // 10], True, "truncated PDF"),
        UploadCase("form.pdf", _pdf_with(rng, script=True), True, "PDF with JavaScript"),
        UploadCase("locked.pdf", _pdf_with(rng, locked=True), True, "encrypted PDF"),
    ]
    if held_out:
        cases += [
            UploadCase("photo.bmp", _encoded(picture.resize((320, 240)), "BMP"), True, "BMP"),
            UploadCase("scan.tiff", _encoded(picture, "TIFF"), True, "TIFF"),
            UploadCase(
                "logo.png",
                b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
                True,
                "SVG as .png",
            ),
            UploadCase("wide.png", png_bomb(9_000, 4_000), True, "36 M pixels"),
            UploadCase("square.png", png_bomb(6_000, 6_000), True, "36 M pixels, square"),
            UploadCase("cut.png", png[: len(png) // 2], True, "truncated PNG"),
            UploadCase("PHOTO.JPEG", jpeg, False, "JPEG, upper-case name"),
            UploadCase("page.pdf.png", pdf, False, "a PDF named .png"),
            UploadCase(
                "claim.pdf",
                _escaped_names(_pdf_with(rng, script=True)),
                True,
                "PDF with JavaScript, its name escaped",
            ),
        ]
        rng.shuffle(cases)
    return cases


def _zip(rng: random.Random) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("notes.txt", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(info, f"notes {rng.randint(0, 99)}")
    return buffer.getvalue()


def score_validator(
    validate: Callable[[bytes, str], str | None], cases: Sequence[UploadCase]
) -> pd.DataFrame:
    """Each case through ``validate(data, filename)``: its verdict (None means accepted) and
    whether that was right. An exception counts as a crash, not a rejection."""
    import pandas as pd

    rows = []
    for case in cases:
        try:
            verdict = validate(case.data, case.filename)
            crashed = None
        except Exception as exc:  # the validator's own bug: report it, do not count it
            verdict, crashed = None, f"{type(exc).__name__}: {exc}"
        rejected = verdict is not None
        rows.append(
            {
                "file": case.filename,
                "kind": case.kind,
                "bad": case.bad,
                "verdict": crashed or (str(verdict) if rejected else "accepted"),
                "right": crashed is None and rejected == case.bad,
            }
        )
    return pd.DataFrame(rows)
