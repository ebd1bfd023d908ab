"""What an image costs as model input, and how to make it cost less.

Providers bill an image by its size, not its bytes. OpenAI's published formula for its
GPT-4o-class models (https://platform.openai.com/docs/guides/images-vision, "Calculating
costs"): at ``detail="low"`` an image costs a fixed 85 tokens; at ``"high"`` it is first scaled
to fit in 2048 x 2048, then so that its shortest side is 768 px (neither step enlarges it), and
costs 170 tokens per 512-px tile of the result plus 85. The per-model constants (85 and 170)
sit in the model registry (``image_base_tokens``, ``image_tile_tokens``), since other models
use other numbers. ``"auto"`` lets the provider choose; it is counted here as ``"high"``, the
dearer of the two, so a budget checked with it errs on the safe side.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from course_lib.errors import UploadRejectedError

if TYPE_CHECKING:
    from PIL import Image

    from course_lib.models import ModelSpec

__all__ = [
    "DETAILS",
    "GPT4O_VISION",
    "Detail",
    "VisionPricing",
    "data_url",
    "fit_within",
    "image_part",
    "image_size",
    "image_tokens",
    "pdf_part",
    "scaled_for_tiles",
    "vision_pricing",
]

Detail = Literal["low", "high", "auto"]
DETAILS: tuple[Detail, ...] = ("low", "high", "auto")


@dataclass(frozen=True)
class VisionPricing:
    """The constants of a tile formula: what one image costs a given model."""

    base_tokens: int = 85
    tile_tokens: int = 170
    tile_px: int = 512
    max_side: int = 2048
    short_side: int = 768


GPT4O_VISION = VisionPricing()
"""OpenAI's published constants for GPT-4o-class models."""


def vision_pricing(spec: ModelSpec) -> VisionPricing:
    """The tile formula's constants for a registry model (``image_base_tokens`` and
    ``image_tile_tokens`` in its entry); a model without them takes no images."""
    base, tile = spec.extra.get("image_base_tokens"), spec.extra.get("image_tile_tokens")
    if base is None or tile is None:
        raise ValueError(
            f"Model {spec.id!r} has no image prices in the registry (image_base_tokens, "
            "image_tile_tokens): it does not take images. Pick a model that does."
        )
    return VisionPricing(base_tokens=int(base), tile_tokens=int(tile))


def scaled_for_tiles(
    width: int, height: int, pricing: VisionPricing = GPT4O_VISION
) -> tuple[int, int]:
    """The size the provider tiles at ``detail="high"``: fit in 2048 x 2048, then shortest
    side down to 768 px; never enlarged."""
    _check_size(width, height)
    scale = min(1.0, pricing.max_side / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, pricing.short_side / min(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def image_tokens(
    width: int, height: int, detail: str = "auto", pricing: VisionPricing = GPT4O_VISION
) -> int:
    """Input tokens of one image of ``width`` x ``height`` pixels at ``detail``."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {DETAILS}, got {detail!r}.")
    _check_size(width, height)
    if detail == "low":
        return pricing.base_tokens
    w, h = scaled_for_tiles(width, height, pricing)
    tiles = math.ceil(w / pricing.tile_px) * math.ceil(h / pricing.tile_px)
    return pricing.base_tokens + pricing.tile_tokens * tiles


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"an image needs a positive size, got {width} x {height}.")


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the file's header, without decoding its pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # reading a bomb's header is safe: no pixels decoded
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                return int(width), int(height)
    except (UnidentifiedImageError, OSError) as exc:
        raise UploadRejectedError(f"not a readable image ({exc}).") from None


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """A copy of ``image`` whose longer side is at most ``max_side`` px, aspect kept.

    Resizing before upload is how you control what an image costs: the provider would scale
    it anyway, but bills the tiles of its own scaled size, and you pay to send the bytes. The
    new size is ``round(side * scale)``, so you can compute it (and its tokens) before paying
    for the resize; the image's ``info`` (its text chunks) is kept.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}.")
    width, height = image.size
    scale = max_side / max(width, height)
    if scale >= 1:
        return image.copy()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = image.resize(size, reducing_gap=3.0)  # Pillow's default filter; fast on big images
    small.info.update(image.info)
    return small


def data_url(data: bytes, mime: str | None = None) -> str:
    """``data:<mime>;base64,...``; the type is sniffed from the bytes when not given."""
    if mime is None:
        import filetype  # type: ignore[import-untyped]

        kind = filetype.guess(data)
        if kind is None:
            raise UploadRejectedError("cannot tell the file's type from its bytes.")
        mime = str(kind.mime)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_part(data: bytes, detail: Detail = "auto") -> dict[str, Any]:
    """A Chat Completions content part holding an image, sent inline as a data URL."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {DETAILS}, got {detail!r}.")
    return {"type": "image_url", "image_url": {"url": data_url(data), "detail": detail}}


def pdf_part(data: bytes, filename: str) -> dict[str, Any]:
    """A Chat Completions ``file`` content part holding a PDF (the only file type that
    endpoint takes inline), as ``{"type": "file", "file": {"filename", "file_data"}}``."""
    return {
        "type": "file",
        "file": {"filename": filename, "file_data": data_url(data, "application/pdf")},
    }
