"""Lesson 1.7's lab: images with text drawn on them, handbook pages as PDFs, and what each costs
or loses.

Nothing here is production code: the production pieces are in :mod:`course_lib.media`. The lab
draws its images with Pillow and its PDFs with fpdf2, deterministically, so the lesson measures
real files. Each image carries the text it shows in its PNG ``Description`` chunk, with the
glyph height and width it was drawn at: the stand-in model cannot see pixels and reads those
(see :mod:`course_lib.standin.media`). Never print a byte size or hash of a Pillow-encoded
file: they change between Pillow versions; sizes in pixels, tokens and text do not.
"""

from __future__ import annotations

import io
import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from PIL import Image

    from course_lib.datasets import GoldenQuestion
    from course_lib.rag import HandbookDocument

__all__ = [
    "LESSON_IMAGES",
    "PDF_LAYOUTS",
    "HandbookPdf",
    "LessonImage",
    "best_text_px",
    "budget_images",
    "extracted_documents",
    "handbook_pdfs",
    "image_cost_table",
    "lesson_image",
    "pdf_questions",
    "pdf_retrieval_recall",
    "plain_text",
    "plot_image_tokens",
    "png_bytes",
    "quote_recovery",
    "shrink_report",
    "text_image",
]


# --- images --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonImage:
    """An image the lesson sends: its size, the text drawn on it and how tall that text is."""

    name: str
    width: int
    height: int
    text_px: int
    text: str


LESSON_IMAGES = (
    LessonImage(
        "phone photo of a receipt",
        4032,
        3024,
        48,
        "Kestrel Cafe, Krakow hub. 2026-11-03. Team lunch, 4 people. Total EUR 86.40.",
    ),
    LessonImage(
        "screenshot of an error",
        1920,
        1080,
        18,
        "kctl deploy failed: error E-4031, the deploy freeze is active until Monday 09:00.",
    ),
    LessonImage(
        "scanned form",
        1240,
        1754,
        14,
        "Access request: production database, read-only, for 30 days. Approved by the EM.",
    ),
)
"""The lesson's three uploads, at the sizes phones, screens and scanners produce."""


def text_image(text: str, *, width: int, height: int, text_px: int) -> Image.Image:
    """A white image with ``text`` drawn ``text_px`` high, carrying the text in its metadata
    (PNG ``Description``) with the size it was drawn at, for the stand-in to read."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=text_px)
    per_line = max(8, int(width * 0.9 / (text_px * 0.55)))
    y = max(1, height // 10)
    for line in textwrap.wrap(text, per_line):
        draw.text((width // 20, y), line, fill=0, font=font)
        y += int(text_px * 1.4)
    image.info.update(
        {"Description": text, "course:text_px": str(text_px), "course:drawn_width": str(width)}
    )
    return image


def lesson_image(name: str) -> Image.Image:
    """One of :data:`LESSON_IMAGES`, drawn."""
    spec = next((i for i in LESSON_IMAGES if i.name == name), None)
    if spec is None:
        raise KeyError(
            f"No lesson image {name!r}; choose one of {[i.name for i in LESSON_IMAGES]}."
        )
    return text_image(spec.text, width=spec.width, height=spec.height, text_px=spec.text_px)


def png_bytes(image: Image.Image) -> bytes:
    """The image as PNG, keeping its text chunks (Pillow drops them unless told to keep them)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in image.info.items():
        if isinstance(key, str) and isinstance(value, str):
            info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def image_cost_table(
    sizes: Iterable[tuple[str, int, int]], price_per_million: float
) -> pd.DataFrame:
    """Tokens and dollars per 1,000 images for each (name, width, height), at both details."""
    import pandas as pd

    from course_lib.media import image_tokens, scaled_for_tiles

    rows = []
    for name, width, height in sizes:
        tiled = scaled_for_tiles(width, height)
        for detail in ("low", "high"):
            tokens = image_tokens(width, height, detail)
            rows.append(
                {
                    "image": name,
                    "size": f"{width}x{height}",
                    "detail": detail,
                    "tiled at": f"{tiled[0]}x{tiled[1]}" if detail == "high" else "512 max",
                    "tokens": tokens,
                    "$ per 1,000 images": round(tokens * price_per_million / 1000, 3),
                }
            )
    return pd.DataFrame(rows)


def plot_image_tokens(max_side: int = 4096, aspect: float = 4 / 3) -> Figure:
    """High-detail tokens against the image's longer side (a 4:3 image), and low detail's 85."""
    import matplotlib.pyplot as plt

    from course_lib.media import image_tokens

    sides = list(range(64, max_side + 1, 16))
    high = [image_tokens(s, max(1, round(s / aspect)), "high") for s in sides]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.step(sides, high, where="post", label='detail="high"')
    ax.axhline(image_tokens(100, 100, "low"), color="grey", linestyle="--", label='detail="low"')
    ax.set_xlabel("longer side of a 4:3 image (px)")
    ax.set_ylabel("input tokens")
    ax.set_title("What one image costs: tiles of 512 px after the provider's own scaling")
    ax.legend(loc="center right")
    fig.tight_layout()
    return fig


def budget_images(seed: int, n: int = 12) -> list[tuple[Image.Image, int]]:
    """``n`` images of random sizes and text heights, with the glyph height each was drawn at:
    the exercise's check set (another seed than the lesson's)."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        width = rng.choice((900, 1280, 1600, 2400, 3000, 4000))
        height = int(width * rng.choice((0.5, 0.75, 1.0, 1.33, 1.41)))
        text_px = rng.choice((12, 16, 20, 28, 40, 56))
        text = f"Check image {seed}-{i}: the total is EUR {rng.randint(10, 999)}."
        out.append((text_image(text, width=width, height=height, text_px=text_px), text_px))
    return out


def shrink_report(
    shrink: Callable[[Any, int], Any], images: Sequence[tuple[Image.Image, int]], budget: int
) -> pd.DataFrame:
    """Each image through ``shrink(image, budget) -> (image, detail)``: its tokens, whether it
    fits the budget and whether its text stays legible to the stand-in (planted rule)."""
    import pandas as pd

    from course_lib.media import image_tokens
    from course_lib.standin.media import LEGIBLE_PX, seen_glyph_px

    rows = []
    for image, text_px in images:
        small, detail = shrink(image.copy(), budget)
        tokens = image_tokens(small.width, small.height, detail)
        seen = seen_glyph_px(text_px, image.width, small.width, small.height, detail)
        rows.append(
            {
                "original": f"{image.width}x{image.height}",
                "text px": text_px,
                "sent": f"{small.width}x{small.height}",
                "detail": detail,
                "tokens": tokens,
                "fits": tokens <= budget,
                "text seen px": round(seen, 1),
                "legible": seen >= LEGIBLE_PX,
                "best possible px": round(
                    best_text_px(image.width, image.height, text_px, budget), 1
                ),
            }
        )
    return pd.DataFrame(rows)


def _size_at(width: int, height: int, side: int) -> tuple[int, int]:
    """``fit_within``'s arithmetic: the size whose longer side is ``side``, shape kept."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def best_text_px(width: int, height: int, text_px: int, budget: int) -> float:
    """How tall the text can be, as the model sees it, at the best size within ``budget``:
    the largest high-detail size that fits, or low detail when not even one tile fits. The
    report shows it so a learner can tell "my mistake" from "impossible at this budget"."""
    from course_lib.media import image_tokens
    from course_lib.standin.media import seen_glyph_px

    if image_tokens(1, 1, "high") > budget:
        return seen_glyph_px(text_px, width, *_size_at(width, height, 512), "low")
    side = max(width, height)
    while side > 1 and image_tokens(*_size_at(width, height, side), "high") > budget:
        side -= 1
    size = _size_at(width, height, max(1, side - 1))  # one pixel of slack for Pillow's rounding
    return seen_glyph_px(text_px, width, *size, "high")


# --- PDFs ----------------------------------------------------------------------------------

PDF_LAYOUTS = ("one column", "two columns", "scanned")
"""How the lab lays out a handbook page: the layout is assigned by document, in turn."""

_REPLACE = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2192": "->",
        "\u20ac": "EUR",
        "\u00a0": " ",
        "\u2265": ">=",
        "\u2264": "<=",
        "\u00d7": "x",
    }
)


def plain_text(markdown: str) -> str:
    """Markdown as the words a reader sees, in Latin-1 (the PDF core fonts' alphabet):
    no backticks, emphasis, link targets or table bars."""
    text = markdown.translate(_REPLACE)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("**", "").replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("latin-1", "ignore").decode("latin-1")
    return text


def _normalised(text: str) -> str:
    return " ".join(plain_text(text).replace("|", " ").lower().split())


@dataclass(frozen=True)
class HandbookPdf:
    """One handbook document exported as a PDF, with the golden quotes it should still hold."""

    doc_id: str
    layout: str
    data: bytes
    quotes: tuple[str, ...]
    table_quotes: tuple[str, ...]


def _blocks(markdown: str) -> list[tuple[str, Any]]:
    """("heading", text), ("para", text) or ("table", rows) blocks of a Markdown body."""
    blocks: list[tuple[str, Any]] = []
    table: list[list[str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(("para", plain_text(" ".join(para))))
            para.clear()
        if table:
            blocks.append(("table", [row[:] for row in table]))
            table.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            if para:
                blocks.append(("para", plain_text(" ".join(para))))
                para.clear()
            cells = [plain_text(c.strip()) for c in stripped.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                table.append(cells)
            continue
        if table:
            flush()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            blocks.append(("heading", plain_text(stripped.lstrip("#").strip())))
        elif re.match(r"^([-*]|\d+\.)\s", stripped):
            flush()
            para.append(stripped)
            flush()
        else:
            para.append(stripped)
    flush()
    return blocks


def _new_pdf() -> Any:
    from datetime import datetime, timezone

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))  # same bytes every run
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_font("Helvetica", size=10)
    return pdf


def _one_column(blocks: list[tuple[str, Any]]) -> bytes:
    pdf = _new_pdf()
    pdf.add_page()
    for kind, body in blocks:
        if kind == "heading":
            pdf.set_font("Helvetica", style="B", size=12)
            pdf.multi_cell(0, 7, body, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=10)
        elif kind == "para":
            pdf.multi_cell(0, 5, body, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        else:
            width = max(len(row) for row in body)
            with pdf.table(col_widths=(1,) * width, text_align="LEFT", line_height=5) as table:
                for cells in body:
                    row = table.row()
                    for cell in cells + [""] * (width - len(cells)):
                        row.cell(cell)
            pdf.ln(2)
    return bytes(pdf.output())


def _lines(blocks: list[tuple[str, Any]], width: int) -> list[str]:
    lines: list[str] = []
    for kind, body in blocks:
        if kind == "table":
            for row in body:
                lines.extend(textwrap.wrap(" ".join(c for c in row if c), width) or [""])
        else:
            lines.extend(textwrap.wrap(body, width) or [""])
        lines.append("")
    return lines


def _two_columns(blocks: list[tuple[str, Any]]) -> bytes:
    """Two columns, drawn row by row across the page, as many typesetters draw them."""
    pdf = _new_pdf()
    lines, per_column = _lines(blocks, 48), 52
    for start in range(0, len(lines), 2 * per_column):
        pdf.add_page()
        left = lines[start : start + per_column]
        right = lines[start + per_column : start + 2 * per_column]
        for row in range(per_column):
            y = 20 + row * 5
            if row < len(left) and left[row]:
                pdf.text(12, y, left[row])
            if row < len(right) and right[row]:
                pdf.text(108, y, right[row])
    return bytes(pdf.output())


def _scanned(blocks: list[tuple[str, Any]]) -> bytes:
    """Each page a picture of its text: what a scanner produces (no text layer)."""
    from PIL import Image, ImageDraw, ImageFont

    pdf = _new_pdf()
    font = ImageFont.load_default(size=14)
    lines, per_page = _lines(blocks, 96), 60
    for start in range(0, len(lines), per_page):
        page = Image.new("L", (827, 1169), 255)  # A4 at 100 dpi
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(lines[start : start + per_page]):
            draw.text((50, 50 + row * 18), line, fill=0, font=font)
        pdf.add_page()
        pdf.image(page, x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


_RENDER = {"one column": _one_column, "two columns": _two_columns, "scanned": _scanned}


def _quotes_by_doc(split: str) -> dict[str, list[str]]:
    from course_lib.datasets import load_golden_set

    quotes: dict[str, list[str]] = {}
    for question in load_golden_set(split):
        for source in question.sources:
            quotes.setdefault(source.doc_id, [])
            if source.quote not in quotes[source.doc_id]:
                quotes[source.doc_id].append(source.quote)
    return quotes


@lru_cache(maxsize=4)
def handbook_pdfs(split: str = "dev", limit: int | None = None) -> tuple[HandbookPdf, ...]:
    """The handbook documents the golden ``split`` cites, each exported as a PDF in one of
    :data:`PDF_LAYOUTS` (in turn, by document id), with the golden quotes it holds."""
    from course_lib.datasets import load_handbook

    quotes = _quotes_by_doc(split)
    docs = [d for d in load_handbook() if d.id in quotes]
    docs.sort(key=lambda d: d.id)
    if limit is not None:
        docs = docs[:limit]
    out = []
    for number, doc in enumerate(docs):
        layout = PDF_LAYOUTS[number % len(PDF_LAYOUTS)]
        data = _RENDER[layout](_blocks(doc.text))  # the body opens with "# <title>"
        held = tuple(quotes[doc.id])
        out.append(
            HandbookPdf(
                doc.id,
                layout,
                data,
                tuple(q for q in held if "|" not in q),
                tuple(q for q in held if "|" in q),
            )
        )
    return tuple(out)


def quote_recovery(
    pdfs: Sequence[HandbookPdf], extract: Callable[[bytes], list[str]]
) -> pd.DataFrame:
    """Per layout and kind of text (prose, table row): golden quotes found, word for word,
    in the text ``extract`` gets from the PDFs (whitespace, case and Markdown ignored)."""
    import pandas as pd

    rows = []
    for pdf in pdfs:
        text = _normalised(" ".join(extract(pdf.data)))
        for kind, quotes in (("prose", pdf.quotes), ("table row", pdf.table_quotes)):
            for quote in quotes:
                rows.append(
                    {"layout": pdf.layout, "text": kind, "found": _normalised(quote) in text}
                )
    frame = pd.DataFrame(rows)
    table = frame.groupby(["layout", "text"])["found"].agg(quotes="count", found="sum")
    table["share"] = (table["found"] / table["quotes"]).round(3)
    return table.reset_index()


def extracted_documents(
    pdfs: Sequence[HandbookPdf], extract: Callable[[bytes], list[str]] | None = None
) -> list[HandbookDocument]:
    """The exported documents, with their text replaced by what ``extract`` got from each PDF
    (pages joined by blank lines), or as their Markdown sources when ``extract`` is None."""
    from dataclasses import replace

    from course_lib.datasets import load_handbook

    docs = {doc.id: doc for doc in load_handbook()}
    if extract is None:
        return [docs[pdf.doc_id] for pdf in pdfs]
    return [replace(docs[pdf.doc_id], text="\n\n".join(extract(pdf.data))) for pdf in pdfs]


def pdf_questions(pdfs: Sequence[HandbookPdf], split: str = "dev") -> list[GoldenQuestion]:
    """The golden questions of ``split`` answered by one exported document."""
    from course_lib.datasets import load_golden_set

    exported = {pdf.doc_id for pdf in pdfs}
    return [
        q
        for q in load_golden_set(split)
        if q.answerable and len(q.doc_ids) == 1 and q.doc_ids[0] in exported
    ]


def pdf_retrieval_recall(
    documents: Sequence[HandbookDocument],
    pdfs: Sequence[HandbookPdf],
    questions: Sequence[GoldenQuestion],
    k: int = 5,
) -> pd.DataFrame:
    """Recall@k per layout: the share of questions whose document is among the top ``k``
    chunks, searching an index of ``documents`` alone (hybrid search, full clearance). One index
    file is brought up to date each time, so only the documents that changed are embedded."""
    import pandas as pd

    from course_lib.rag import HandbookIndex, User, search
    from course_lib.workdir import work_path

    index = HandbookIndex.build(documents, path=work_path("lesson_1_7", "handbook.sqlite"))
    reader = User(
        "reader", team="people", clearance=frozenset({"public", "internal", "restricted"})
    )
    layout = {pdf.doc_id: pdf.layout for pdf in pdfs}
    rows = []
    for question in questions:
        hits = search(index, question.question, user=reader, k=k)
        found = question.doc_ids[0] in {hit.chunk.doc_id for hit in hits}
        rows.append({"layout": layout[question.doc_ids[0]], "found": found})
    frame = pd.DataFrame(rows)
    table = frame.groupby("layout")["found"].agg(questions="count", found="sum")
    table[f"recall@{k}"] = (table["found"] / table["questions"]).round(3)
    return table.reset_index()
