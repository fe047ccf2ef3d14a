"""Address books that lose nothing: crafted vCards of each kind real files hold import
every good property, and each line left out is reported with FILE:LINE."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from directory.models import Endpoint, Entry
from directory.vcard_tel import read_tel, split_extension
from directory.vcards import parse_card, read_vcard_file

pytestmark = pytest.mark.django_db


def run(*paths: Path, region: str | None = "US") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = {"verbosity": 2, "no_progress": True}
    if region:
        options["region"] = region
    call_command("import_vcards", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def tel_uris(nickname: str) -> list[str]:
    entry = Entry.objects.get(nickname=nickname)
    return list(
        entry.endpoints.filter(scheme="tel").order_by("preference").values_list("uri", flat=True)
    )


# --------------------------------------------------------------------------------------
# Folding and character sets


def test_a_fold_inside_a_utf8_character_is_joined_before_decoding(tmp_path):
    # RFC 6350 §3.2 folds at 75 octets: "ë" (C3 AB) and "ł" (C5 82) split between lines.
    data = (
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zo\xc3\r\n \xab Faure-Ko\xc5\r\n\t\x82odziej\r\n"
        b"NOTE:caf\xc3\r\n \xa9\r\nEMAIL:zoe@example.com\r\nEND:VCARD\r\n"
    )
    path = write_bytes(tmp_path, "folded.vcf", data)

    out, err = run(path)

    assert err == ""
    assert read_vcard_file(data).encoding == "utf-8"
    assert Entry.objects.get().nickname == "Zoë Faure-Kołodziej"
    assert parse_card(read_vcard_file(data).blocks[0]).first_text("NOTE") == "café"


def test_a_file_that_is_not_utf8_is_read_in_an_8bit_charset_and_says_so(tmp_path):
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:José Müller\r\nEMAIL:jose@example.com\r\nEND:VCARD\r\n"
    path = write_bytes(tmp_path, "latin.vcf", text.encode("cp1252"))

    _, err = run(path)

    assert Entry.objects.get().nickname == "José Müller"
    assert err.splitlines()[0].startswith(
        f"{path}:3: the file is not valid UTF-8 (this is its first line that is not); "
        "it was read as "
    )


def test_quoted_printable_soft_breaks_and_charsets_are_still_honoured(tmp_path):
    data = (
        b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
        b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C5=81uk=\r\nasz;Ma=C5=82gorzata\r\n"
        b"FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Fran=E7oise=\r\n Dupont\r\n"
        b"NOTE;ENCODING=QUOTED-PRINTABLE:Caf=E9\r\n"
        b"TEL;CELL:+33 1 99 00 56 78\r\nEND:VCARD\r\n"
    )
    path = write_bytes(tmp_path, "qp.vcf", data)

    _, err = run(path)

    card = parse_card(read_vcard_file(data).blocks[0])
    assert card.all("N")[0].components[:2] == ["Łukasz", "Małgorzata"]
    assert Entry.objects.get().nickname == "Françoise Dupont"
    assert tel_uris("Françoise Dupont") == ["tel:+33199005678"]
    # A QP value without CHARSET that is not UTF-8: read as windows-1252, and said so.
    assert card.first_text("NOTE") == "Café"
    assert err.splitlines() == [
        f"{path}:7: the quoted-printable value has no CHARSET and is not UTF-8; "
        "it was read as cp1252"
    ]


# --------------------------------------------------------------------------------------
# A malformed line costs only its property


MALFORMED = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\n"
    b'TEL;TYPE="cell:+1 613 555 0101\r\n'  # 4: an unclosed quote, no ':' outside it
    b"EMAIL:bob@example.net\r\n"
    b"X-BROKEN;=x:y\r\n"  # 6: an empty parameter name
    b"IMPP:xmpp:bob@example.net\r\nEND:VCARD\r\n"
)


def test_malformed_lines_cost_only_their_property_and_are_reported_with_their_line(tmp_path):
    path = write_bytes(tmp_path, "malformed.vcf", MALFORMED)

    out, err = run(path)

    assert [line.split(": ", 1)[0] for line in err.splitlines()] == [f"{path}:4", f"{path}:6"]
    assert all(line.endswith("only this line was left out") for line in err.splitlines())
    entry = Entry.objects.get(nickname="Bob")
    assert set(entry.endpoints.values_list("uri", flat=True)) == {
        "mailto:bob@example.net",
        "xmpp:bob@example.net",
    }
    assert "2  a line that cannot be read (reported above with its line)" in out


# --------------------------------------------------------------------------------------
# Phone numbers: valid for their region, extensions kept apart


def test_only_numbers_valid_for_their_region_are_stored_with_the_reason_for_others(tmp_path):
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Greta Berlin\r\n"
        "TEL;TYPE=work:030 1234567\r\n"  # 4: Berlin, national: not a US number
        "TEL;TYPE=home:+49 30 1234567\r\n"  # 5: the same number, international: kept
        "TEL;TYPE=cell:+49 1234 56789\r\n"  # 6: German length, no such German range
        "TEL:123\r\n"  # 7: too short
        "TEL:555 0100\r\n"  # 8: a local number without its area code
        "TEL:+999 1234 5678\r\n"  # 9: no such country code
        "TEL:(613) 555-0101\r\n"  # 10: a valid US/Canadian national number
        "END:VCARD\r\n"
    )
    path = write_bytes(tmp_path, "numbers.vcf", text.encode())

    _, err = run(path, region="US")

    assert tel_uris("Greta Berlin") == ["tel:+49301234567", "tel:+16135550101"]
    assert not Endpoint.objects.filter(uri__startswith="tel:+1030").exists()
    lines = err.splitlines()
    assert lines[0] == (
        f"{path}:4: TEL skipped: '030 1234567' is not a valid number of +1 (US): its length "
        "is possible, but no area code or range of that country begins so. It was read as "
        "a national number of US; a number of another country needs its + and country code."
    )
    assert lines[1].startswith(f"{path}:6: TEL skipped: '+49 1234 56789' is not a valid number")
    assert lines[2] == f"{path}:7: TEL skipped: '123' is too short for a number of +1 (US). " + (
        "It was read as a national number of US; a number of another country needs its + "
        "and country code."
    )
    assert lines[3].startswith(f"{path}:8: TEL skipped: '555 0100' is a local number of +1 (US)")
    assert lines[4] == (
        f"{path}:9: TEL skipped: '+999 1234 5678' starts with a country code that does not exist."
    )
    assert len(lines) == 5


@pytest.mark.parametrize(
    ("value", "extension"),
    [
        ("tel:+1-613-555-0127;ext=204", "204"),  # RFC 3966
        ("tel:+1-613-555-0127;EXT=204;isub=1", "204"),
        ("+1 613 555 0127;ext=204", "204"),  # RFC 3966's spelling in a text value
        ("+1 613 555 0127 x204", "204"),
        ("+1 613 555 0127 X 204", "204"),
        ("+1 613 555 0127 ext. 204", "204"),
        ("+1 613 555 0127 ext 204", "204"),
        ("+1 613 555 0127 extension 204", "204"),
        ("+1 613 555 0127 #204", "204"),
        ("+1 613 555 0127,204", "204"),  # a phone's pause
        ("+1 613 555 0127,,204", "204"),
        ("+1 613 555 0127;204", "204"),  # a phone's wait
        ("tel:+1-613-555-0127,204", "204"),
        ("tel:+1-613-555-0127;204", "204"),
        ("+16135550127p204", "204"),  # Android's vCard spelling of the pause
        ("+16135550127w204", "204"),
        ("tel:6135550127;phone-context=+1;ext=2-04", "204"),
        ("+1 613 555 0127", None),
    ],
)
def test_every_extension_spelling_is_kept_apart_from_the_e164_number(value, extension):
    number = read_tel(value, None)
    assert (number.e164, number.extension) == ("+16135550127", extension)


def test_a_vanity_number_is_not_read_as_an_extension():
    assert split_extension("+1-800-MYFAX") == ("+1-800-MYFAX", "")


def test_extensions_are_stored_on_the_tel_uri_of_the_endpoint(tmp_path):
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ext Person\r\n"
        "TEL;VALUE=uri;TYPE=work:tel:+1-613-555-0101;ext=11\r\n"
        "TEL;TYPE=work:+1 613 555 0102 x12\r\n"
        "TEL;TYPE=work:+1 613 555 0103 ext. 13\r\n"
        "TEL;TYPE=work:+1 613 555 0104,14\r\n"
        "TEL;VALUE=uri;TYPE=work:tel:+1-613-555-0105;15\r\n"
        "END:VCARD\r\n"
    )
    _, err = run(write_bytes(tmp_path, "ext.vcf", text.encode()))
    assert err == ""
    assert tel_uris("Ext Person") == [f"tel:+1613555010{n};ext=1{n}" for n in range(1, 6)]
