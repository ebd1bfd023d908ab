"""Images and PDFs as model input: what they cost, how to shrink them, how to read a PDF's
text, and how to refuse a bad upload before it costs anything.

* :mod:`~course_lib.media.images`: the providers' image token formula, resizing with Pillow,
  and the Chat Completions content parts (``image_url`` and ``file``);
* :mod:`~course_lib.media.pdfs`: a PDF's text layer, page by page, with pypdf;
* :mod:`~course_lib.media.uploads`: :func:`check_upload`, type sniffing by magic bytes, size,
  pixel-count and page limits, truncated files, PDFs with scripts or encryption.

Importing this package loads no Pillow, filetype or pypdf: they load on first use.
"""

from __future__ import annotations

from course_lib.media.images import (
    DETAILS,
    GPT4O_VISION,
    Detail,
    VisionPricing,
    data_url,
    fit_within,
    image_part,
    image_size,
    image_tokens,
    pdf_part,
    scaled_for_tiles,
    vision_pricing,
)
from course_lib.media.pdfs import pdf_page_texts
from course_lib.media.uploads import IMAGE_TYPES, Upload, UploadLimits, check_upload

__all__ = [
    "DETAILS",
    "GPT4O_VISION",
    "IMAGE_TYPES",
    "Detail",
    "Upload",
    "UploadLimits",
    "VisionPricing",
    "check_upload",
    "data_url",
    "fit_within",
    "image_part",
    "image_size",
    "image_tokens",
    "pdf_page_texts",
    "pdf_part",
    "scaled_for_tiles",
    "vision_pricing",
]
