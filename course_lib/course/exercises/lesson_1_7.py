"""Checkers of lesson 1.7, "Multimodal inputs"."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

SOLUTION = "solutions/1_ai_capabilities/17_multimodal_inputs.ipynb"

# --- 1.7.1 an image as a content part ----------------------------------------------------------


def image_message(question: str, data: bytes, detail: str) -> dict[str, Any]:
    """The course's answer: one user message, the question as a text part and the image as an
    ``image_url`` part holding a data URL whose type is sniffed from the bytes."""
    import filetype  # type: ignore[import-untyped]

    kind = filetype.guess(data)
    mime = kind.mime if kind is not None else "application/octet-stream"
    url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": question},
            {"type": "image_url", "image_url": {"url": url, "detail": detail}},
        ],
    }


@lru_cache(maxsize=1)
def _message_cases() -> tuple[tuple[str, bytes, str, str, tuple[int, int]], ...]:
    """(question, bytes, detail, mime, size): images of four types the lesson never sends."""
    from PIL import Image, ImageDraw

    cases = []
    for fmt, mime, size, detail in (
        ("JPEG", "image/jpeg", (1600, 1200), "high"),
        ("PNG", "image/png", (640, 480), "low"),
        ("WEBP", "image/webp", (900, 2000), "auto"),
        ("GIF", "image/gif", (300, 300), "high"),
    ):
        image = Image.new("RGB", size, (250, 250, 250))
        ImageDraw.Draw(image).rectangle((10, 10, size[0] // 2, size[1] // 3), fill=(20, 90, 160))
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        question = f"What does this {fmt.lower()} image show?"
        cases.append((question, buffer.getvalue(), detail, mime, size))
    return tuple(cases)


_OTHER_FORMATS = {
    "image": "that is Anthropic's Messages format; Chat Completions calls the part "
    '{"type": "image_url", "image_url": {"url": ...}}',
    "input_image": "that is the Responses API's format; Chat Completions calls the part "
    '{"type": "image_url", "image_url": {"url": ...}}',
}


@exercise(
    "1.7.1",
    title="An image as a Chat Completions content part",
    answer_name="image_message",
    reference=image_message,
    solution=SOLUTION,
    hints=(
        "The message's content becomes a list of parts: one text part with the question, one "
        "image part. Print the message the tutorial built above and compare.",
        'The image part is {"type": "image_url", "image_url": {"url": ..., "detail": ...}}; the '
        "url is a data URL: data:<type>;base64,<the bytes in base64>.",
        "The type in the data URL must be the file's real type: read it from the bytes with "
        "filetype.guess(data).mime, not from a name; JPEGs and WebPs come too.",
    ),
)
def _check_message(answer: Any, probe: Probe) -> str:
    from course_lib.media import data_url, image_part

    if answer_calls(answer, image_part) or answer_calls(answer, data_url):
        raise NotYet(
            "image_message calls course_lib.media, which builds the part for you: write the "
            "part yourself, so you know what your library sends."
        )
    for question, data, detail, mime, size in _message_cases():
        call = f"image_message({question!r}, <{mime} {size[0]}x{size[1]}>, {detail!r})"
        message = probe.call_as(call, answer, question, data, detail)
        _check_one_message(message, call, question, data, detail, mime)
        _send(message, call, size, detail)
    return "four image types, each sent as the API expects and counted by the tile formula."


def _check_one_message(
    message: Any, call: str, question: str, data: bytes, detail: str, mime: str
) -> None:
    if not isinstance(message, Mapping):
        raise NotYet(f"{call} returned {type(message).__name__}; return one message, a dict.")
    if message.get("role") != "user":
        raise NotYet(f"{call}: the role is {message.get('role')!r}; images go in a user message.")
    content = message.get("content")
    if not isinstance(content, list):
        raise NotYet(f"{call}: content is {type(content).__name__}; make it a list of parts.")
    kinds = [p.get("type") if isinstance(p, Mapping) else None for p in content]
    for kind, why in _OTHER_FORMATS.items():
        if kind in kinds:
            raise NotYet(f"{call}: a part of type {kind!r}: {why}.")
    texts = [p.get("text") for p in content if isinstance(p, Mapping) and p.get("type") == "text"]
    if question not in texts:
        raise NotYet(f"{call}: no text part holds the question; add {{'type': 'text', ...}}.")
    images = [p for p in content if isinstance(p, Mapping) and p.get("type") == "image_url"]
    if len(images) != 1:
        raise NotYet(f"{call}: {len(images)} parts of type 'image_url'; expected one.")
    body = images[0].get("image_url")
    if not isinstance(body, Mapping) or not isinstance(body.get("url"), str):
        raise NotYet(f'{call}: image_url must be an object {{"url": ..., "detail": ...}}.')
    url = body["url"]
    if not url.startswith("data:"):
        raise NotYet(f"{call}: the url is not a data URL; start it with data:<type>;base64,")
    head, _, payload = url.partition(",")
    if head != f"data:{mime};base64":
        raise NotYet(
            f"{call}: the data URL starts {head + ','!r}; this file's bytes are {mime}, so "
            f"it should start 'data:{mime};base64,'."
        )
    try:
        decoded = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise NotYet(f"{call}: the data URL's payload is not valid base64.") from None
    if decoded != data:
        raise NotYet(f"{call}: the data URL's payload does not decode to the image's bytes.")
    if body.get("detail") != detail:
        raise NotYet(f"{call}: detail is {body.get('detail')!r}; send the detail asked for.")


def _send(message: Mapping[str, Any], call: str, size: tuple[int, int], detail: str) -> None:
    from course_lib.media import image_tokens
    from course_lib.models import get_registry
    from course_lib.standin import LocalModel
    from course_lib.standin.errors import InvalidRequestError

    model = get_registry().model_id("chat-small")
    try:
        prepared = LocalModel().prepare({"model": model, "messages": [dict(message)]})
    except InvalidRequestError as exc:
        raise NotYet(f"{call}: the local model refused it: {exc}") from None
    if prepared.prompt_tokens < image_tokens(*size, detail):
        raise NotYet(f"{call}: the model counted no image; is the part's type 'image_url'?")


# --- 1.7.2 an image under a token budget, text still legible ----------------------------------

CHECK_IMAGE_SEEDS = (101, 202)
"""Images the check uses: sizes and text heights the lesson never shows."""
CHECK_BUDGETS = (200, 300, 600, 900)
"""Token budgets per image the check uses (the lesson's is 500); 200 is under one
high-detail tile (255 tokens), so only low detail fits it."""


def shrink(image: Any, budget: int) -> tuple[Any, str]:
    """The course's answer: the largest copy whose high-detail cost fits ``budget`` (text is
    most legible at the largest size); low detail only when not even one tile fits."""
    from course_lib.media import fit_within, image_tokens

    width, height = image.size
    if image_tokens(width, height, "high") <= budget:
        return image, "high"
    if image_tokens(1, 1, "high") > budget:
        return fit_within(image, 512), "low"
    side = _largest_side(width, height, budget)
    small = fit_within(image, side)
    while image_tokens(*small.size, "high") > budget:  # Pillow rounds a pixel differently
        side -= 1
        small = fit_within(image, side)
    return small, "high"


def _size_at(width: int, height: int, side: int) -> tuple[int, int]:
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _largest_side(width: int, height: int, budget: int) -> int:
    """The longest side a resized copy may have for its high-detail cost to fit ``budget``."""
    from course_lib.media import image_tokens

    side = max(width, height)
    while side > 1 and image_tokens(*_size_at(width, height, side), "high") > budget:
        side -= 1
    return side


@lru_cache(maxsize=4)
def _check_images(seed: int) -> tuple[Any, ...]:
    from course_lib.labs.multimodal_lab import budget_images

    return tuple(budget_images(seed, n=6))


@exercise(
    "1.7.2",
    title="An image under a token budget, its text still legible, on images you never saw",
    answer_name="shrink",
    reference=shrink,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Print image_tokens for your result and the 'text seen px' column of the report: an "
        "image fails either by costing too much or by shrinking its text below 8 px.",
        "Text is most legible at the largest size that fits: start from the image's own size "
        "and shrink step by step (fit_within) until image_tokens(..., 'high') fits the budget.",
        "Low detail costs 85 tokens whatever the size, but the model sees at most 512 px: use "
        "it only when not even one high-detail tile (255 tokens) fits the budget.",
    ),
)
def _check_shrink(answer: Any, probe: Probe) -> str:
    from course_lib.media import DETAILS, image_tokens
    from course_lib.standin.media import LEGIBLE_PX, seen_glyph_px

    checked = legible = 0
    for seed in CHECK_IMAGE_SEEDS:
        for number, (image, text_px) in enumerate(_check_images(seed)):
            for budget in CHECK_BUDGETS:
                what = f"an image of {image.width}x{image.height} (check image {seed}-{number})"
                call = f"shrink(<{what}>, {budget})"
                got = probe.call_as(call, answer, image.copy(), budget)
                if not isinstance(got, tuple) or len(got) != 2:
                    raise NotYet(f"{call} returned {type(got).__name__}; return (image, detail).")
                small, detail = got
                if not hasattr(small, "size") or detail not in DETAILS:
                    raise NotYet(
                        f"{call} returned ({type(small).__name__}, {detail!r}); return a PIL "
                        f"image and a detail among {DETAILS}."
                    )
                if detail == "auto":
                    raise NotYet(
                        f"{call} returned detail 'auto', which lets the provider choose: choose "
                        "'low' or 'high' yourself, so the cost is known before you send."
                    )
                width, height = small.size
                if width > image.width or height > image.height:
                    raise NotYet(f"{call}: {width}x{height} is larger than the original.")
                if abs(
                    width / height - image.width / image.height
                ) > 0.02 * image.width / image.height + 1 / min(width, height):
                    raise NotYet(
                        f"{call}: {width}x{height} changes the image's shape (cropped or "
                        "stretched); keep its aspect ratio."
                    )
                tokens = image_tokens(width, height, detail)
                if tokens > budget:
                    raise NotYet(
                        f"{call}: {width}x{height} at detail {detail!r} costs {tokens} tokens, "
                        f"over the budget of {budget}."
                    )
                seen = seen_glyph_px(text_px, image.width, width, height, detail)
                best = _best_seen(image.width, image.height, text_px, budget)
                if best >= LEGIBLE_PX and seen < LEGIBLE_PX:
                    raise NotYet(
                        f"{call}: fits ({tokens} tokens) but its text is {seen:.1f} px high as "
                        f"the model sees it, under {LEGIBLE_PX:.0f}: a larger size within the "
                        "budget keeps it legible."
                    )
                checked += 1
                legible += seen >= LEGIBLE_PX
    return (
        f"{checked} image-and-budget pairs you never saw: all within budget, text legible "
        f"in {legible} (every one where any size within the budget allows it)."
    )


def _best_seen(width: int, height: int, text_px: int, budget: int) -> float:
    """How tall the text can be, as the model sees it, at the best size within ``budget``."""
    from course_lib.labs.multimodal_lab import best_text_px

    return best_text_px(width, height, text_px, budget)


# --- 1.7.3 an upload validator, checked on a suite you never saw -------------------------------

CHECK_SUITE_SEEDS = (11, 12)
"""Suites the check uses: other files, and kinds the lesson never shows."""


def validate_upload(data: bytes, filename: str) -> str | None:
    """The course's answer: the bytes decide; limits before decoding; None accepts."""
    import warnings

    import filetype
    from PIL import Image

    from course_lib.labs.upload_lab import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS

    if not data:
        return "empty file"
    if len(data) > MAX_UPLOAD_BYTES:
        return f"too large: {len(data):,} bytes"
    kind = filetype.guess(data)
    mime = kind.mime if kind is not None else "unknown"
    if mime in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    if image.width * image.height > MAX_UPLOAD_PIXELS:
                        return f"too many pixels: {image.width}x{image.height}"
                    image.load()
        except Exception as exc:
            return f"image does not decode: {type(exc).__name__}"
        return None
    if mime == "application/pdf":
        from pypdf import PdfReader

        if b"%%EOF" not in data[-1024:]:
            return "truncated PDF"
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return "encrypted PDF"
            root: Any = reader.trailer["/Root"].get_object()  # names read with escapes decoded
            names: Any = root.get("/Names")
            action: Any = root.get("/OpenAction")
            action = action.get_object() if action is not None else None
            if (
                "/AA" in root
                or (names is not None and "/JavaScript" in names.get_object())
                or (isinstance(action, dict) and action.get("/S") == "/JavaScript")
            ):
                return "PDF with JavaScript"
            len(reader.pages)
        except Exception as exc:
            return f"PDF does not parse: {type(exc).__name__}"
        return None
    return f"not an image or a PDF: {mime}"


@exercise(
    "1.7.3",
    title="An upload validator, checked on a suite with files and kinds you never saw",
    answer_name="validate_upload",
    reference=validate_upload,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Print score_validator(validate_upload, suite) and read the rows marked wrong: which "
        "kind of file does your validator let through, or refuse by mistake?",
        "Decide on the bytes, never the name: filetype.guess(data).mime gives the real type. "
        "Allow a short list of types; a type you did not list is refused, even one never seen.",
        "Images: open with Pillow (it reads the header only), compare width * height with "
        "MAX_UPLOAD_PIXELS, then image.load() to catch a truncated file. PDFs: an %%EOF near "
        "the end, reader.is_encrypted, then the catalogue, root = "
        "reader.trailer['/Root'].get_object(): an /AA entry, a /JavaScript entry in its /Names, "
        "or an /OpenAction whose /S is /JavaScript. Read names, not bytes: a name can be "
        "written with escapes (/Java#53cript) that a byte search misses.",
    ),
)
def _check_validator(answer: Any, probe: Probe) -> str:
    from course_lib.labs.upload_lab import upload_suite
    from course_lib.media import check_upload

    if answer_calls(answer, check_upload):
        raise NotYet(
            "validate_upload calls course_lib.media.check_upload: write your own with filetype, "
            "Pillow and pypdf, then compare it with the library's in the next section."
        )
    total = 0
    for seed in CHECK_SUITE_SEEDS:
        for case in upload_suite(seed, held_out=True):
            call = f"validate_upload(<{case.kind}>, {case.filename!r})"
            verdict = probe.call_as(call, answer, case.data, case.filename)
            if verdict is not None and not isinstance(verdict, str):
                raise NotYet(f"{call} returned {type(verdict).__name__}; return None or a str.")
            if case.bad and verdict is None:
                escaped = (
                    " Its script's name is written with an escape (/Java#53cript): a search of "
                    "the bytes misses it, reading the catalogue's names with pypdf does not."
                    if "escaped" in case.kind
                    else ""
                )
                raise NotYet(
                    f"{call} accepted a bad file ({case.kind}) from a suite you never saw."
                    + escaped
                )
            if case.bad and (not verdict or not verdict.strip() or "\n" in verdict):
                raise NotYet(f"{call}: give the reason in one non-empty line.")
            if not case.bad and verdict is not None:
                raise NotYet(
                    f"{call} refused a good file ({case.kind}) with the reason {verdict!r}. "
                    "Find the test in your validator that gives it: good files may be "
                    "misnamed or nameless, and a PDF may carry a harmless /OpenAction (fpdf2 "
                    "adds a zoom); refuse scripts, not every action."
                )
            total += 1
    return f"{total} uploads from two suites you never saw: every bad one refused, no good one."
