"""The one personal-data detector: every kind, what is left alone, allow, kinds, placeholder,
bad input, and the two places that use it (traces and answers)."""

from __future__ import annotations

import importlib.util
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import course_lib.guardrails as guardrails
import course_lib.observability as observability
from course_lib.errors import SettingsError
from course_lib.observability import setup_tracing, trace_span, traced_chat
from course_lib.personal_data import (
    DEFAULT_PLACEHOLDER,
    PERSONAL_DATA_KINDS,
    PersonalData,
    find_personal_data,
    redact_personal_data,
    redact_personal_data_value,
)
from course_lib.standin import local_client

QUESTION = "Parcel KF4820193375 for anna.nowak@example.com, call +48 601 234 567. Refund?"
HELPDESK = "+44 113 555 0142"

# (text, kind, value): the examples of both lessons, and of the phone exercise.
EXAMPLES = [
    ("write to jan.kowalski@kestrel.example today", "email", "jan.kowalski@kestrel.example"),
    ("first.last+tag@mail.example.co.uk", "email", "first.last+tag@mail.example.co.uk"),
    ("Write to ana.sousa@example.org today", "email", "ana.sousa@example.org"),
    ("mail a@b.example.", "email", "a@b.example"),
    ("IBAN GB33BUKB20201555555555", "iban", "GB33BUKB20201555555555"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "iban", "GB82 WEST 1234 5698 7654 32"),
    ("card 4111 1111 1111 1111", "card", "4111 1111 1111 1111"),
    ("card 5555-5555-5555-4444 expired", "card", "5555-5555-5555-4444"),
    ("parcel KF1234567890 is late", "tracking_number", "KF1234567890"),
    ("call +44 113 555 0142 now", "phone", "+44 113 555 0142"),
    ("call +1 (415) 555-0100", "phone", "+1 (415) 555-0100"),
    ("Call +351 912 345 678 now", "phone", "+351 912 345 678"),
    ("From abroad dial +44 (0)20 7946 0958;", "phone", "+44 (0)20 7946 0958"),
    ("in Krakow +48 601-234-567.", "phone", "+48 601-234-567"),
    ("the IT line is 0113 555 0142.", "phone", "0113 555 0142"),
    ("mobile 07700 900123, thanks", "phone", "07700 900123"),
    ("ring (0113) 496 0321", "phone", "(0113) 496 0321"),
    ("Tel.+44 7700 900 123", "phone", "+44 7700 900 123"),
    ("Helpdesk: +441135550142 (24/7).", "phone", "+441135550142"),
    ("Send it to 14 Wharf Street, Leeds LS2 7EQ.", "address", "14 Wharf Street, Leeds LS2 7EQ"),
    (
        "Ines: Rua das Amoreiras 28, 1250-020 Lisboa.",
        "address",
        "Rua das Amoreiras 28, 1250-020 Lisboa",
    ),
    ("Office: ul. Zabłocie 23, 30-701 Kraków", "address", "ul. Zabłocie 23, 30-701 Kraków"),
    ("NI number JT 12 34 56 C on file", "national_id", "JT 12 34 56 C"),
    ("NI number JT123456C on file", "national_id", "JT123456C"),
]


@pytest.mark.parametrize(("text", "kind", "value"), EXAMPLES)
def test_each_kind_is_found_where_it_sits_and_redacted(text: str, kind: str, value: str) -> None:
    (found,) = find_personal_data(text)
    assert (found.kind, found.value) == (kind, value)
    assert text[found.start : found.end] == value
    redacted, replaced = redact_personal_data(text)
    assert redacted == text.replace(value, f"[REDACTED:{kind}]")
    assert replaced == [found]


def test_every_kind_has_an_example() -> None:
    assert {kind for _, kind, _ in EXAMPLES} == set(PERSONAL_DATA_KINDS)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # fails the Luhn check
        "IBAN GB34 WEST 1234 5698 7654 32",  # wrong check digits
        "IBAN GB00 WEST 1234 5698 7654 32",
        "chatcmpl-1714cb4d9b217b1f000001",
        "2026-11-02T10:00:00Z took 1438 tokens on port 43123",
        "handbook-answer@v3 served local-small at 127.0.0.1",
        "SEV1: acknowledge within 5 minutes; EUR 300 per week; 25 working days",
        "version 2026.11, trace 8737168e02d84f66a9c1d2e3f4051627",
        "1796590103072000000 nanoseconds",
        "Ticket SD-2041 on 2026-03-12 for parcel KF-20931: EUR 1,200, 09:00-17:30, v0.4.2.",
        "Reviewed 0 (2026-02-24) and KF123456789 (nine digits).",
    ],
)
def test_ids_numbers_dates_and_times_are_left_alone(text: str) -> None:
    assert find_personal_data(text) == []
    assert redact_personal_data(text) == (text, [])


@pytest.mark.parametrize(
    "text",
    [
        "scores [0.034865653088544654, 0.021183734298488396]",  # decimals of a score
        "ratio 0.01135550142 and 3,07700900123",  # a phone's digits after a decimal point
        "id 90113 555 0142 and x+07700 900123",  # inside a longer number, after a '+'
        "sum 4111 1111 1111 1111.25 and 0113 555 0142.5",  # followed by decimals
        "build 4111111111111111a7",  # part of an id
    ],
)
def test_digits_inside_a_longer_number_are_not_matched(text: str) -> None:
    assert find_personal_data(text) == []


def test_matches_come_in_reading_order_and_never_overlap() -> None:
    text = "IBAN GB82 WEST 1234 5698 7654 32, mail a@b.example, KF0000000001, " + QUESTION
    found = find_personal_data(text)
    assert [p.kind for p in found] == [
        "iban",
        "email",
        "tracking_number",
        "tracking_number",
        "email",
        "phone",
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_a_kind_left_out_still_keeps_its_characters() -> None:
    """Asking for phones only must not find a phone in an IBAN's or an allowed address's digits."""
    iban = "IBAN DE89 3704 0044 0532 0130 00"
    assert [p.kind for p in find_personal_data(iban)] == ["iban"]
    assert find_personal_data(iban, ["phone", "card"]) == []
    mail = "write to 07700900123@sms.kestrel.example"
    assert find_personal_data(mail, "phone") == []
    assert find_personal_data(mail, allow=["kestrel.example"]) == []


# -- allow: published contacts --------------------------------------------------------------


def test_allowed_phone_numbers_match_by_digits_however_grouped() -> None:
    text = f"Helpdesk +441135550142 or {HELPDESK}; Ana on +351 912 345 678."
    found = find_personal_data(text, allow=[HELPDESK])
    assert [p.value for p in found] == ["+351 912 345 678"]
    # The national form has other digits (0 for +44): it is another spelling, not allowed.
    assert [p.value for p in find_personal_data("0113 555 0142", allow=[HELPDESK])] == [
        "0113 555 0142"
    ]


def test_allowed_email_addresses_and_domains() -> None:
    text = (
        "it@kestrel.example, ops@eu.kestrel.example, a@evilkestrel.example, "
        "ana@gmail.example, IT@KESTREL.EXAMPLE"
    )
    by_domain = find_personal_data(text, allow=["kestrel.example"])
    assert [p.value for p in by_domain] == ["a@evilkestrel.example", "ana@gmail.example"]
    by_address = find_personal_data(text, allow=["@kestrel.example", "ana@gmail.example"])
    assert [p.value for p in by_address] == ["a@evilkestrel.example"]
    one = find_personal_data("it@kestrel.example, hr@kestrel.example", allow=["it@kestrel.example"])
    assert [p.value for p in one] == ["hr@kestrel.example"]


def test_allowed_addresses_ibans_and_ids() -> None:
    office = "Visit ul. Zabłocie 23, 30-701 Kraków or 14 Wharf Street, Leeds LS2 7EQ."
    assert [p.kind for p in find_personal_data(office, allow=["ul.  zabłocie 23"])] == ["address"]
    assert find_personal_data("GB82 WEST 1234 5698 7654 32", allow=["GB82WEST12345698765432"]) == []
    assert find_personal_data("JT 12 34 56 C", allow=["jt123456c"]) == []
    # One contact may be given as a string; an empty one allows nothing.
    assert find_personal_data(f"call {HELPDESK}", allow=HELPDESK) == []
    assert len(find_personal_data("a@b.example", allow=["", " "])) == 1


# -- kinds, placeholder ---------------------------------------------------------------------


def test_kinds_choose_what_is_reported() -> None:
    text = "Call +48 601 234 567 or mail a@b.example about KF1234567890."
    assert [p.kind for p in find_personal_data(text, ["phone"])] == ["phone"]
    assert [p.kind for p in find_personal_data(text, "email")] == ["email"]
    assert [p.kind for p in find_personal_data(text, ("tracking_number", "email"))] == [
        "email",
        "tracking_number",
    ]
    assert find_personal_data(text, []) == []
    redacted, found = redact_personal_data(text, ["phone"])
    assert redacted == "Call [REDACTED:phone] or mail a@b.example about KF1234567890."
    assert [p.kind for p in found] == ["phone"]


def test_an_unknown_kind_is_refused_with_the_choices() -> None:
    with pytest.raises(SettingsError, match=r"unknown personal-data kind\(s\) \['passport'\]"):
        find_personal_data("x", ["phone", "passport"])
    with pytest.raises(SettingsError, match="tracking_number"):
        redact_personal_data("x", "Phone")


def test_placeholder_is_configurable() -> None:
    text = "Call +48 601 234 567 or mail a@b.example."
    assert DEFAULT_PLACEHOLDER == "[REDACTED:{kind}]"
    assert redact_personal_data(text, placeholder="[{kind} removed]")[0] == (
        "Call [phone removed] or mail [email removed]."
    )
    assert redact_personal_data(text, placeholder="***")[0] == "Call *** or mail ***."
    assert (
        redact_personal_data(text, placeholder="{{{kind}}}")[0] == "Call {phone} or mail {email}."
    )
    assert redact_personal_data(text, placeholder="")[0] == "Call  or mail ."


@pytest.mark.parametrize("placeholder", ["[{what}]", "[{0}]", "[{kind", "[{kind!z}]"])
def test_a_placeholder_with_another_field_is_refused(placeholder: str) -> None:
    with pytest.raises(SettingsError, match=r"placeholder .* may use only"):
        redact_personal_data("a@b.example", placeholder=placeholder)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, b"a@b.example", 42, ["a@b.example"]])
def test_text_that_is_not_a_string_is_refused(text: Any) -> None:
    with pytest.raises(TypeError, match="find personal data in a string"):
        find_personal_data(text)
    with pytest.raises(TypeError, match="str\\(\\)"):
        redact_personal_data(text)


def test_bad_settings_are_refused_with_the_fix() -> None:
    with pytest.raises(SettingsError, match="contacts to allow must be strings"):
        find_personal_data("a@b.example", allow=[HELPDESK, 441135550142])  # type: ignore[list-item]
    with pytest.raises(SettingsError, match="placeholder must be a string"):
        redact_personal_data("a@b.example", placeholder=None)  # type: ignore[arg-type]


def test_empty_text_and_values_of_every_attribute_type() -> None:
    assert find_personal_data("") == []
    assert redact_personal_data("") == ("", [])
    assert redact_personal_data_value(["a@b.example", 3]) == ["[REDACTED:email]", 3]
    assert redact_personal_data_value(("KF1234567890",)) == ("[REDACTED:tracking_number]",)
    assert redact_personal_data_value(["a@b.example"], "phone") == ["a@b.example"]
    assert redact_personal_data_value("a@b.example", placeholder="<{kind}>") == "<email>"
    for value in (12, 0.5, True, None):
        assert redact_personal_data_value(value) == value


_PIECES = [text for text, _, _ in EXAMPLES] + ["Leave is 28 days.", "v0.4.2", "EUR 1,200", " "]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6))
def test_redacted_text_holds_nothing_left_to_find(pieces: list[str]) -> None:
    text = " ".join(pieces)
    redacted, found = redact_personal_data(text)
    assert find_personal_data(redacted) == []
    assert all(item.value not in redacted for item in found)
    assert found == find_personal_data(text)


# -- one detector, two users ----------------------------------------------------------------


def test_both_packages_use_the_one_detector() -> None:
    for package in (observability, guardrails):
        assert package.find_personal_data is find_personal_data
        assert package.PersonalData is PersonalData
        assert package.PERSONAL_DATA_KINDS == PERSONAL_DATA_KINDS
    assert observability.redact_personal_data is redact_personal_data
    for gone in ("course_lib.observability.personal_data", "course_lib.guardrails.personal_data"):
        assert importlib.util.find_spec(gone) is None


def test_answers_say_what_was_removed_and_traces_follow_the_handbook() -> None:
    """The one difference between the two: the placeholder a reader of each one sees."""
    text = f"Call Ana on +351 912 345 678 or the helpdesk on {HELPDESK}."
    answer, found = guardrails.redact_personal_data(text, allow=[HELPDESK])
    assert answer == f"Call Ana on [phone removed] or the helpdesk on {HELPDESK}."
    assert guardrails.PERSONAL_DATA_REMOVED == "[{kind} removed]"
    assert found == find_personal_data(text, allow=[HELPDESK])
    assert observability.redact_personal_data(text)[0] == (
        "Call Ana on [REDACTED:phone] or the helpdesk on [REDACTED:phone]."
    )
    with pytest.raises(SettingsError, match="unknown personal-data kind"):
        guardrails.redact_personal_data(text, ["passport"])


# -- in traces ------------------------------------------------------------------------------


def _text_of(spans: Any) -> str:
    return json.dumps([dict(s.attributes) for s in spans], default=str)


def test_tracing_redacts_personal_data_when_asked() -> None:
    client = local_client()
    with setup_tracing("memory", capture_message_content=True) as raw:
        traced_chat(client, raw, QUESTION)
        assert "anna.nowak@example.com" in _text_of(raw.spans())  # the default: unchanged
        assert raw.redacts_personal_data is False
    with setup_tracing("memory", capture_message_content=True, redact_personal_data=True) as safe:
        traced_chat(client, safe, QUESTION)
        (span,) = safe.spans()
        assert safe.redacts_personal_data is True
    (message,) = json.loads(span.attributes["gen_ai.input.messages"])
    assert message["parts"][0]["content"] == (
        "Parcel [REDACTED:tracking_number] for [REDACTED:email], call [REDACTED:phone]. Refund?"
    )
    assert span.attributes["gen_ai.usage.input_tokens"] > 0  # numbers untouched


def test_spans_made_by_other_code_are_redacted_too() -> None:
    """Redaction sits at the exporter: a span another library made, an event, the status."""
    with setup_tracing("memory", redact_personal_data=True) as tracing:
        with tracing.tracer.start_as_current_span("lookup KF1234567890") as span:
            span.set_attribute("http.request.body", "to: a@b.example")
            span.set_attribute("recipient", ["14 Wharf Street, Leeds LS2 7EQ", "JT 12 34 56 C"])
            span.add_event("note", {"text": "call 0113 555 0142"})
        with pytest.raises(RuntimeError), trace_span(tracing, "step"):
            raise RuntimeError("no parcel KF1234567890")
        first, second = tracing.spans()
    assert first.name == "lookup [REDACTED:tracking_number]"
    assert first.attributes["http.request.body"] == "to: [REDACTED:email]"
    assert first.attributes["recipient"] == ("[REDACTED:address]", "[REDACTED:national_id]")
    assert first.events[0].attributes["text"] == "call [REDACTED:phone]"
    assert "KF1234567890" not in (second.status.description or "")
    assert "KF1234567890" not in _text_of([second]) + json.dumps(
        [dict(e.attributes) for e in second.events]
    )


def test_otlp_headers_reach_the_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.exporter.otlp.proto.http import trace_exporter

    seen: dict[str, Any] = {}
    real = trace_exporter.OTLPSpanExporter

    def recording(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(trace_exporter, "OTLPSpanExporter", recording)
    tracing = setup_tracing(
        "otlp",
        otlp_endpoint="http://127.0.0.1:9/v1/traces",
        otlp_headers={"x-mlflow-experiment-id": "7"},
        capture_message_content=False,
    )
    tracing.shutdown()
    assert seen == {
        "endpoint": "http://127.0.0.1:9/v1/traces",
        "headers": {"x-mlflow-experiment-id": "7"},
    }
