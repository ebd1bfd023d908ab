"""The stand-in's image and file parts: counted by the formula, read as far as it can, and
refused with a provider's 400 when malformed."""

from __future__ import annotations

import base64

import pytest

from course_lib.labs.multimodal_lab import png_bytes, text_image
from course_lib.media import image_part, image_tokens, pdf_part
from course_lib.models import get_registry
from course_lib.standin import LocalModel
from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.media import read_media, seen_glyph_px


def _request(*parts: dict, role: str = "user", question: str = "What does it say?") -> dict:
    content = [{"type": "text", "text": question}, *parts]
    return {
        "model": get_registry().model_id("chat-small"),
        "messages": [{"role": role, "content": content}],
    }


def test_image_tokens_are_reported_in_usage() -> None:
    image = text_image("Error E-4031: deploy freeze.", width=1920, height=1080, text_px=18)
    model = LocalModel()
    plain = model.prepare(_request()).prompt_tokens
    for detail in ("low", "high"):
        prepared = model.prepare(_request(image_part(png_bytes(image), detail)))
        text = prepared.read["messages"][0]["content"][1]["text"]
        assert prepared.prompt_tokens >= plain + image_tokens(1920, 1080, detail)
        if detail == "high":
            assert "E-4031" in text
        else:
            assert "too small" in text  # 18 px at 1920 wide seen at 512: under 8 px


def test_the_answer_reads_the_image_text() -> None:
    image = text_image("The deploy freeze lasts until Monday.", width=800, height=400, text_px=20)
    model = LocalModel()
    request = _request(
        image_part(png_bytes(image), "high"), question="Until when does the deploy freeze last?"
    )
    reply = model.answer(request, model.prepare(request))
    assert "Monday" in reply["choices"][0]["message"]["content"]


def test_requests_without_media_are_untouched() -> None:
    request = {"model": "local-small", "messages": [{"role": "user", "content": "hi"}]}
    read = read_media(request, get_registry().resolve("chat-small"))
    assert read.request is request and read.media_tokens == 0


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ({"type": "image_url", "image_url": {"url": "https://x.example/a.png"}}, "offline"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}, "base64"),
        (
            {
                "type": "image_url",
                "image_url": {
                    "url": "data:image/png;base64," + base64.b64encode(b"<html>").decode()
                },
            },
            "unsupported image",
        ),
        ({"type": "image_url", "image_url": "data:image/png;base64,AA=="}, "object"),
        (
            {
                "type": "file",
                "file": {"filename": "a.txt", "file_data": "data:text/plain;base64,aGk="},
            },
            "PDF",
        ),
    ],
)
def test_malformed_parts_get_a_clear_400(part: dict, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        LocalModel().prepare(_request(part))


def test_images_only_in_user_messages_and_only_for_vision_models() -> None:
    part = image_part(png_bytes(text_image("x", width=64, height=64, text_px=12)), "low")
    with pytest.raises(InvalidRequestError, match="only user messages"):
        LocalModel().prepare(_request(part, role="system"))


def test_pdf_text_layer_is_read_per_page() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in ("Claims are paid on Thursday.", ""):
        pdf.add_page()
        if text:
            pdf.text(20, 20, text)
    prepared = LocalModel().prepare(_request(pdf_part(bytes(pdf.output()), "policy.pdf")))
    text = prepared.read["messages"][0]["content"][1]["text"]
    assert "[policy.pdf#p1] Claims are paid on Thursday." in text
    assert "[policy.pdf#p2] (no text layer on this page)" in text


def test_seen_glyph_height_follows_the_providers_scaling() -> None:
    assert seen_glyph_px(18, 1920, 1920, 1080, "high") == pytest.approx(18 * 1365 / 1920, rel=0.01)
    assert seen_glyph_px(18, 1920, 910, 512, "high") == pytest.approx(18 * 910 / 1920)
    assert seen_glyph_px(18, 1920, 1920, 1080, "low") == pytest.approx(18 * 512 / 1920)


def test_best_text_px_is_the_ceiling_a_shrink_can_reach() -> None:
    from course_lib.labs.multimodal_lab import best_text_px

    # under one tile (255 tokens) only low detail fits: the model sees at most 512 px
    assert best_text_px(1920, 1080, 18, 200) == pytest.approx(
        seen_glyph_px(18, 1920, 512, 288, "low")
    )
    # a larger budget never makes the best legible size smaller
    heights = [best_text_px(1920, 1080, 18, budget) for budget in (255, 425, 765, 1105)]
    assert heights == sorted(heights)
    assert heights[-1] == pytest.approx(seen_glyph_px(18, 1920, 1919, 1079, "high"), rel=0.01)
