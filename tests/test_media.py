"""course_lib.media: the image token formula, resizing, content parts, PDF text, uploads."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from course_lib.errors import UploadRejectedError
from course_lib.labs.upload_lab import png_bomb, upload_suite
from course_lib.media import (
    UploadLimits,
    check_upload,
    data_url,
    fit_within,
    image_part,
    image_size,
    image_tokens,
    pdf_page_texts,
    pdf_part,
    scaled_for_tiles,
    vision_pricing,
)
from course_lib.models import get_registry


@pytest.mark.parametrize(
    ("size", "detail", "tokens"),
    [
        ((1024, 1024), "high", 765),  # OpenAI's worked example: 768 x 768, four tiles
        ((2048, 4096), "high", 1105),  # 1024 x 2048 -> 768 x 1536, six tiles
        ((4096, 8192), "low", 85),
        ((300, 200), "high", 255),  # never enlarged: one tile
        ((1920, 1080), "auto", 1105),  # auto counts as high
    ],
)
def test_image_tokens_follow_the_published_formula(
    size: tuple[int, int], detail: str, tokens: int
) -> None:
    assert image_tokens(*size, detail) == tokens


def test_scaled_for_tiles_fits_then_shortens() -> None:
    assert scaled_for_tiles(4032, 3024) == (1024, 768)
    assert scaled_for_tiles(500, 400) == (500, 400)


def test_bad_detail_and_size_are_refused() -> None:
    with pytest.raises(ValueError, match="detail"):
        image_tokens(10, 10, "medium")
    with pytest.raises(ValueError, match="positive"):
        image_tokens(0, 10, "high")


def test_pricing_comes_from_the_registry() -> None:
    pricing = vision_pricing(get_registry().resolve("chat-small"))
    assert (pricing.base_tokens, pricing.tile_tokens) == (85, 170)
    with pytest.raises(ValueError, match="does not take images"):
        vision_pricing(get_registry().resolve("embed"))


def test_fit_within_keeps_shape_and_info_and_never_enlarges() -> None:
    image = Image.new("L", (1920, 1080), 255)
    image.info["Description"] = "kept"
    small = fit_within(image, 910)
    assert small.size == (910, 512)
    assert small.info["Description"] == "kept"
    assert fit_within(image, 4000).size == (1920, 1080)


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, format="PNG")
    return buffer.getvalue()


def test_parts_carry_sniffed_types() -> None:
    part = image_part(_png(), "low")
    assert part["image_url"]["detail"] == "low"
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    file_part = pdf_part(b"%PDF-1.4 ...", "a.pdf")
    assert file_part["file"]["file_data"].startswith("data:application/pdf;base64,")
    with pytest.raises(UploadRejectedError):
        data_url(b"no magic here")
    assert base64.b64decode(data_url(_png()).split(",", 1)[1]) == _png()


def test_image_size_reads_a_bombs_header_without_decoding_it() -> None:
    assert image_size(png_bomb(12_000, 12_000)) == (12_000, 12_000)


def test_check_upload_refuses_every_bad_file_and_accepts_every_good_one() -> None:
    limits = UploadLimits(max_bytes=2_000_000, max_pixels=25_000_000)
    for case in upload_suite(3, held_out=True):
        if case.bad:
            with pytest.raises(UploadRejectedError) as caught:
                check_upload(case.data, limits)
            assert "\n" not in str(caught.value), case.kind
        else:
            assert check_upload(case.data, limits).mime, case.kind


def test_the_escaped_script_hides_from_a_byte_search_but_not_from_a_reader() -> None:
    import io

    from pypdf import PdfReader

    (case,) = [c for c in upload_suite(11, held_out=True) if "escaped" in c.kind]
    assert b"/JavaScript" not in case.data and b"/Java#53cript" in case.data
    reader = PdfReader(io.BytesIO(case.data), strict=True)  # the rewritten xref is exact
    assert "/JavaScript" in reader.trailer["/Root"]["/Names"]
    assert len(reader.pages) == 1


def test_pdf_text_in_columns_and_with_headings() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.text(12, 15, "Title")
    pdf.set_font("Helvetica", size=10)
    for row, (left, right) in enumerate((("L1", "R1"), ("L2", "R2"))):
        pdf.text(12, 25 + row * 5, left)
        pdf.text(110, 25 + row * 5, right)
    data = bytes(pdf.output())
    assert pdf_page_texts(data)[0].split() == ["Title", "L1", "R1", "L2", "R2"]
    assert pdf_page_texts(data, columns=2)[0].split() == ["Title", "L1", "L2", "R1", "R2"]
    assert pdf_page_texts(data, headings=True)[0].splitlines()[0] == "# Title"
    with pytest.raises(ValueError, match="columns"):
        pdf_page_texts(data, columns=0)


def test_a_harmless_open_action_is_accepted_and_a_script_named_in_the_refusal() -> None:
    limits = UploadLimits(max_bytes=2_000_000, max_pixels=25_000_000)
    suite = upload_suite(3)
    good_pdfs = [c for c in suite if not c.bad and c.data.startswith(b"%PDF")]
    assert good_pdfs and all(b"/OpenAction" in c.data for c in good_pdfs)  # fpdf2's zoom
    for case in good_pdfs:
        check_upload(case.data, limits)
    scripted = next(c for c in suite if c.kind == "PDF with JavaScript")
    with pytest.raises(UploadRejectedError, match="JavaScript"):
        check_upload(scripted.data, limits)
