"""Text out of PDFs with pypdf, page by page, for the retrieval pipeline.

pypdf reads the text layer: the characters the PDF draws, in the order it draws them. What is
not there is lost: a scanned page is an image and has no text layer; a table's cells are
separate strings, so a row may come out run together; two columns drawn line by line come out
interleaved. Measure what your documents lose before you index them.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from course_lib.errors import UploadRejectedError

__all__ = ["pdf_page_texts"]


def pdf_page_texts(data: bytes, columns: int = 1, *, headings: bool = False) -> list[str]:
    """The text layer of each page, in page order ("" for a page with none).

    ``columns=2`` (a source you know is set in two columns): each string the page draws goes
    to the column its starting point falls in, and the left column is read before the right;
    the default order follows the drawing, which interleaves columns drawn row by row.
    ``headings=True``: a line set larger than the page's body text becomes a Markdown heading
    (``# ...``), so a chunker that splits on headings finds the sections again.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}.")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings on odd files: we decide
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UploadRejectedError("the PDF is encrypted; ask for an unprotected copy.")
        if columns == 1 and not headings:
            return [page.extract_text() or "" for page in reader.pages]
        return [_visited(page, columns, headings) for page in reader.pages]
    except PdfReadError as exc:
        raise UploadRejectedError(f"not a readable PDF ({exc}).") from None


def _visited(page: Any, columns: int, headings: bool) -> str:
    """The page's strings, each on its own line, column by column, headings marked."""
    width = float(page.mediabox.width)
    parts: list[list[tuple[str, float]]] = [[] for _ in range(columns)]

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            x = float(tm[4]) + float(cm[4])
            column = min(columns - 1, max(0, int(x / width * columns)))
            parts[column].append((text.strip(), float(size or 0) * abs(float(tm[0]) or 1.0)))

    page.extract_text(visitor_text=visit)
    items = [item for column in parts for item in column]
    if not items:
        return ""
    sizes: dict[float, int] = {}
    for text, size in items:
        sizes[size] = sizes.get(size, 0) + len(text)
    body = max(sizes, key=lambda size: sizes[size])  # the size most text is set in
    lines = [f"# {text}" if headings and size > body * 1.1 else text for text, size in items]
    return "\n".join(lines)
