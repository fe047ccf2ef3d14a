"""``manage.py import_vcards``: real address-book exports in, directory entries out."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError

from directory import importing, services
from directory.models import Endpoint, Entry, Handle
from directory.vcards import parse_card, read_vcard_file

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
# Real exports, kept outside the repository: beside it, or where WORLDBOOK_VCARD_CORPUS says.
SHARED_VCARDS = Path(
    os.environ.get("WORLDBOOK_VCARD_CORPUS") or REPO.parent / "shared" / "data" / "vcards"
)
DEMO = REPO / "deploy" / "demo"
IN_CI = os.environ.get("CI", "").lower() == "true"
SHARED_FILES = sorted(SHARED_VCARDS.glob("*.vcf")) if SHARED_VCARDS.is_dir() else []


def shared(name: str) -> Path:
    """A file of the shared vCard corpus; skips (fails under CI=true) when it is absent."""
    path = SHARED_VCARDS / name
    if not path.is_file():
        message = f"the shared vCard corpus is not at {SHARED_VCARDS} ({name} missing)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def run(*paths, region: str | None = "US", verbosity: int = 1, stderr=None) -> tuple[str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    args = [str(p) for p in paths]
    options = {"verbosity": verbosity, "no_progress": stderr is None}
    if region:
        options["region"] = region
    call_command("import_vcards", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def snapshot() -> tuple[list, list, list]:
    return (
        list(Entry.objects.order_by("pk").values()),
        list(Handle.objects.order_by("pk").values()),
        list(Endpoint.objects.order_by("pk").values()),
    )


def entry_for(nickname: str) -> Entry:
    return Entry.objects.get(nickname=nickname)


def endpoint_uris(entry: Entry) -> list[str]:
    return list(entry.endpoints.order_by("preference").values_list("uri", flat=True))


def handles(entry: Entry) -> set[tuple[str, str]]:
    return set(entry.handles.values_list("kind", "canonical"))


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def card(body: str, version: str = "3.0") -> str:
    return f"BEGIN:VCARD\nVERSION:{version}\n{body.strip()}\nEND:VCARD\n"


# --------------------------------------------------------------------------------------
# Every file of the shared corpus


@pytest.mark.parametrize("path", SHARED_FILES or [None], ids=lambda p: p.name if p else "absent")
def test_it_imports_each_shared_file_once_and_a_second_import_changes_nothing(path):
    if path is None:
        message = f"the shared vCard corpus is not at {SHARED_VCARDS}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    cards_in_file = read_vcard_file(path.read_bytes()).cards_found

    out, err = run(path, verbosity=2)

    assert "Traceback" not in out + err
    for line in err.splitlines():
        assert re.match(rf"^{re.escape(str(path))}:\d+: \S", line), line
    created = int(re.search(r"Entries: (\d+) created", out).group(1))
    skipped = int(re.search(r"Cards skipped: (\d+)", out).group(1))
    assert created + skipped == cards_in_file > 0
    assert f"Cards found: {cards_in_file} = {created} created + " in out
    assert Entry.objects.count() == created
    before = snapshot()

    out_again, _ = run(path, verbosity=2)

    assert f"Entries: 0 created, 0 updated, {created} unchanged" in out_again
    assert snapshot() == before


# --------------------------------------------------------------------------------------
# What the shared files hold


def test_it_keeps_the_extension_of_a_kaddressbook_tel_uri():
    run(shared("kaddressbook-v40-tel-uri-ext.vcf"))
    sherlock = entry_for("Sherlock Holmes")
    tel = sherlock.endpoints.get(uri="tel:+445555555555;ext=5555")
    assert (tel.audience, tel.label, tel.preference) == ("contacts", "home", 10)
    assert ("xmpp", "detective@sherlockholmes.com") in handles(sherlock)
    assert "xmpp:detective@sherlockholmes.com" in endpoint_uris(sherlock)
    assert sherlock.import_key == "uid:urn:uuid:b8767877-b4a1-4c70-9acc-505d3819e519"


def test_it_decodes_android_quoted_printable_names_across_soft_line_breaks():
    out, err = run(shared("android-v21-qp-utf8-multicard.vcf"))
    nicknames = set(Entry.objects.values_list("nickname", flat=True))
    assert "Ñ Ñ Ñ Ñ Ñ" in nicknames
    # This FN is split by a QP soft break whose next line is not indented.
    assert " ".join(["Ñ"] * 11) in nicknames
    assert "Entries: 6 created" in out
    # Cards holding only an email address are named by its local part.
    assert {"john.doe", "jane.doe"} <= nicknames
    henry = Entry.objects.get(handles__canonical="henry@company.com")
    assert henry.nickname == "ÑÑÑÑ"
    assert ("web", "https://www.company.com/") in handles(entry_for("Ñ Ñ Ñ Ñ"))


def test_it_reads_nextcloud_impp_services_from_type():
    out, _ = run(shared("nextcloud-sabre-impp-bare-handles.vcf"))
    kontakt = entry_for("Test Kontakt")
    assert {
        ("xmpp", "xmpp@example.com"),
        ("sip", "sip@example.com"),
        ("matrix", "@matrix:example.com"),
        ("email", "kontakt@example.com"),
    } == handles(kontakt)
    assert set(endpoint_uris(kontakt)) == {
        "xmpp:xmpp@example.com",
        "sip:sip@example.com",
        "https://matrix.to/#/@matrix:example.com",
        "mailto:kontakt@example.com",
    }
    for service in ("irc", "qq", "kik", "wechat", "line", "kakaotalk", "zoom"):
        assert re.search(rf"\b1  IMPP: Worldbook has no handle kind for {service}$", out, re.M)


def test_it_skips_the_davx5_vanity_number_with_its_reason():
    path = shared("davx5-allfields-v30-vanity-tel-custom-groups.vcf")
    out, err = run(path, verbosity=2)
    assert f"{path}:11: TEL skipped: '+1-800-MYFAX' holds letters" in err
    assert "TEL: the value holds letters: vanity numbers and names are not phone numbers." in out
    ami = entry_for("Ämi Display")
    assert not ami.endpoints.filter(uri__contains="800").exists()
    assert ami.endpoints.get(uri="mailto:work@example.com").label == "@work"
    # +49 1234 … has a German number's length, but no German area code starts 1234.
    assert f"{path}:9: TEL skipped: '+49 1234 56788' is not a valid number of +49 (DE)" in err
    assert not ami.endpoints.filter(scheme="tel").exists()
    assert ("sip", "mysip@example.com") in handles(ami)
    assert f"{path}:19: IMPP skipped: 'myIM:anonymous@example.com'" in err


def test_it_skips_outlooks_business_phone_and_keeps_the_rest():
    path = shared("outlook2003-v21-nonnumeric-tel-qp-key.vcf")
    out, err = run(path, verbosity=2)
    assert f"{path}:10: TEL skipped: 'BusinessPhone' holds letters" in err
    john = entry_for("John Doe III")
    assert not john.endpoints.filter(scheme="tel").exists()
    assert handles(john) == {
        ("email", "jdoe@hotmail.com"),
        ("web", "https://web-page-address.com/"),
    }


def test_it_reads_the_iphone_national_number_in_the_region_given():
    run(shared("ios5-iphone-v30-itemgroups-photo.vcf"), region="US")
    john = entry_for("Mr. John Richter James Doe Sr.")
    cell = john.endpoints.get(uri="tel:+19055551234")
    assert (cell.audience, cell.label, cell.capabilities) == ("contacts", "cell", ["voice", "text"])
    assert john.endpoints.get(uri="tel:+19052221234").label == "assistant phone"
    assert ("web", "https://www.ibm.com/") in handles(john)
    # Fax lines are neither voice, video nor text.
    assert not john.endpoints.filter(uri="tel:+19058881234").exists()


def test_it_skips_national_numbers_without_a_region():
    out, _ = run(shared("ios5-iphone-v30-itemgroups-photo.vcf"), region=None)
    assert not Endpoint.objects.filter(scheme="tel").exists()
    assert "TEL: the value is a national number: give a region" in out


def test_it_maps_google_legacy_im_properties_and_escaped_urls():
    out, _ = run(shared("google-contacts-v30-itemgroups-labels.vcf"))
    vcard_test = entry_for("VCard Test")
    assert ("skype", "im5") in handles(vcard_test)
    assert ("web", "https://www.example1.com/") in handles(vcard_test)
    # 555 is no US area code: the numbers are possible, not valid, and are not stored.
    assert not vcard_test.endpoints.filter(scheme="tel").exists()
    assert "TEL: the value is not a valid number of +1 (US)" in out
    assert vcard_test.endpoints.get(uri="mailto:customcategory@example.com").label == (
        "CustomEmailCategory"
    )
    assert "X-AIM: Worldbook has no handle kind for AIM" in out
    assert "X-JABBER: the value is not an XMPP address" in out


def test_it_keeps_a_comma_in_a_formatted_name():
    run(shared("v40-rfc6868-caret-label-param.vcf"))
    dummy = entry_for("Dummy, Dummy")
    assert endpoint_uris(dummy) == ["tel:+49987654321", "mailto:dummy.dummy@dummy.com"]


def test_it_ignores_photos_whatever_their_form():
    _, err = run(
        shared("cardbook-v40-data-uri-photo.vcf"),
        shared("blackberry-v21-unfolded-photo-intl-tel.vcf"),
        shared("thunderbird-mffab-v30-charset-photo.vcf"),
        verbosity=2,
    )
    assert endpoint_uris(entry_for("vCard 4 Contact with image")) == ["mailto:bbb@example.org"]
    # Read past each photo: the TEL after it is reached (and refused for what it is).
    assert f"{shared('blackberry-v21-unfolded-photo-intl-tel.vcf')}:6: TEL skipped: " in err
    thunderbird = Entry.objects.get(handles__canonical="doe.john@hotmail.com")
    assert f"{shared('thunderbird-mffab-v30-charset-photo.vcf')}:11: TEL skipped: " in err
    assert not thunderbird.endpoints.filter(scheme="tel").exists()


# --------------------------------------------------------------------------------------
# Files the corpus lacks


def test_it_reads_a_latin1_file_and_a_charset_labelled_line(tmp_path):
    latin1 = write(
        tmp_path, "latin1.vcf", card("FN:José Müller\nEMAIL:jose@example.com"), "latin-1"
    )
    cp1252 = tmp_path / "cp1252.vcf"
    cp1252.write_bytes(
        card("FN:Liam O’Brien\nEMAIL:liam@example.com").encode("cp1252")
        + card("FN;CHARSET=UTF-8:Zoë Faure\nEMAIL:zoe@example.com").encode("utf-8")
    )
    run(latin1, cp1252)
    assert set(Entry.objects.values_list("nickname", flat=True)) == {
        "José Müller",
        "Liam O’Brien",
        "Zoë Faure",
    }


def test_it_strips_a_byte_order_mark(tmp_path):
    utf8 = tmp_path / "bom-utf8.vcf"
    utf8.write_bytes(b"\xef\xbb\xbf" + card("FN:Åsa Berg\nEMAIL:asa@example.com").encode())
    utf16 = tmp_path / "bom-utf16.vcf"
    utf16.write_bytes(card("FN:Ana Costa\nEMAIL:ana@example.com").encode("utf-16"))
    out, err = run(utf8, utf16)
    assert err == ""
    assert set(Entry.objects.values_list("nickname", flat=True)) == {"Åsa Berg", "Ana Costa"}


def test_a_malformed_line_costs_only_its_property_and_is_reported_with_its_line(tmp_path):
    text = (
        card("FN:First Good\nEMAIL:first@example.com")
        + card(
            "FN:Broken\nEMAIL:broken@example.com\nthis line has no colon\n"
            "TEL;=cell:+1 202 555 0143\nIMPP:xmpp:broken@example.net"
        )
        + card("FN:Second Good\nEMAIL:second@example.com")
    )
    path = write(tmp_path, "broken.vcf", text)
    out, err = run(path)
    assert err.splitlines() == [
        f"{path}:10: line has no ':' between property name and value: "
        "'this line has no colon'; only this line was left out",
        f"{path}:11: line does not follow the vCard grammar: "
        "'TEL;=cell:+1 202 555 0143'; only this line was left out",
    ]
    assert set(Entry.objects.values_list("nickname", flat=True)) == {
        "First Good",
        "Broken",
        "Second Good",
    }
    broken = entry_for("Broken")
    assert handles(broken) == {("email", "broken@example.com"), ("xmpp", "broken@example.net")}
    assert endpoint_uris(broken) == ["mailto:broken@example.com", "xmpp:broken@example.net"]
    assert "Cards skipped: 0" in out
    assert "2  a line that cannot be read (reported above with its line)" in out


def test_it_reports_a_card_without_end_at_its_begin_line(tmp_path):
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:Lost\n" + card("FN:Kept\nEMAIL:kept@example.com")
    path = write(tmp_path, "no-end.vcf", text)
    _, err = run(path)
    assert err.startswith(f"{path}:1: the card has no END:VCARD before the next BEGIN:VCARD")
    assert list(Entry.objects.values_list("nickname", flat=True)) == ["Kept"]


def test_it_refuses_a_card_of_an_unknown_version_at_its_version_line(tmp_path):
    text = card("FN:Future\nEMAIL:future@example.com", version="9.9") + card(
        "FN:Present\nEMAIL:present@example.com", version="4.0"
    )
    path = write(tmp_path, "versions.vcf", text)
    out, err = run(path)
    assert err.splitlines() == [
        f"{path}:2: card not imported: VERSION '9.9' is not a vCard version this import "
        "reads (2.1, 3.0, 4.0)"
    ]
    assert list(Entry.objects.values_list("nickname", flat=True)) == ["Present"]
    assert "1  cannot be read (reported above with its line)" in out


def test_its_summary_adds_up_and_its_problems_come_in_line_order(tmp_path):
    text = (
        card("FN:Anna\nEMAIL:anna@example.com")  # lines 1-5
        + card("FN:Ben\nEMAIL:ben@example.com\nTEL:555 0100")  # 6-11, TEL at 10
        + "BEGIN:VCARD\nVERSION:3.0\nFN:Lost\n"  # 12-14, no END:VCARD
        + card("FN:Cara\nEMAIL:cara@example.com")  # 15-19
        + card("FN:Broken\nthis line has no colon")  # 20-24, bad line 23: a line lost
        + card("FN:Dan\nEMAIL:dan@example.com", version="9.9")  # 25-29, VERSION at 26
        + card("FN:Eve\nEMAIL:eve@example.com")  # 30-34
        + card("FN:Anna\nEMAIL:anna@example.com")  # 35-39, a repeat
        + card("FN:Finn\nEMAIL:finn@example.com")  # 40-44
    )
    path = write(tmp_path, "nine.vcf", text)
    write(tmp_path, "known.vcf", card("FN:Cara\nEMAIL:cara@example.com"))
    run(tmp_path / "known.vcf")

    out, err = run(path, region=None, verbosity=2)

    assert [int(line.split(":")[1]) for line in err.splitlines()] == [10, 12, 23, 26, 35]
    assert "Cards found: 9 = 5 created + 0 updated + 1 unchanged + 3 skipped" in out
    assert "Cards read: 7 (9 found less 2 that cannot be read)" in out
    assert "Entries: 5 created, 0 updated, 1 unchanged" in out
    assert "Cards skipped: 3\n" in out
    assert "2  cannot be read (reported above with its line)" in out
    assert "1  a line that cannot be read (reported above with its line)" in out


def test_it_reads_past_an_unindented_vcard21_photo(tmp_path):
    text = card(
        "FN:Photo Person\nPHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\n"
        "2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a\nHBwgJC4nICIsIxwcKDcpLDAxNDQ0\n\n"
        "EMAIL:photo@example.com",
        version="2.1",
    )
    path = write(tmp_path, "photo.vcf", text)
    _, err = run(path)
    assert err == ""
    assert endpoint_uris(entry_for("Photo Person")) == ["mailto:photo@example.com"]


def test_it_decodes_quoted_printable_in_the_declared_charset(tmp_path):
    text = card(
        "FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Fran=E7oise D=\nupont\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE:line one=0D=0Aline two=\n=0D=0A\n"
        "TEL;WORK;VOICE:+33 1 99 00 56 78",
        version="2.1",
    )
    run(write(tmp_path, "qp.vcf", text))
    francoise = entry_for("Françoise Dupont")
    assert endpoint_uris(francoise) == ["tel:+33199005678"]


def test_it_reads_apple_impp_service_types(tmp_path):
    text = card(
        "FN:Pat Jones\n"
        "IMPP;X-SERVICE-TYPE=Skype;type=pref:live:pat.jones\n"
        "IMPP;X-SERVICE-TYPE=Jabber;type=HOME:xmpp:pat@example.net\n"
        "IMPP;X-SERVICE-TYPE=AIM:aim:patjones\n"
        "item1.IMPP;X-SERVICE-TYPE=Telegram:https://t.me/pat_jones\n"
        "item1.X-ABLabel:chat\n"
        "X-SOCIALPROFILE;type=twitter:https://twitter.com/patjones\n"
        "IMPP:sips:pat@example.com"
    )
    out, _ = run(write(tmp_path, "apple.vcf", text))
    pat = entry_for("Pat Jones")
    assert handles(pat) == {
        ("skype", "live:pat.jones"),
        ("xmpp", "pat@example.net"),
        ("telegram", "pat_jones"),
        ("x", "patjones"),
        ("sip", "pat@example.com"),
    }
    assert pat.endpoints.get(uri="https://t.me/pat_jones").label == "chat"
    assert "sips:pat@example.com" in endpoint_uris(pat)
    assert "IMPP: Worldbook has no handle kind for AIM" in out


def test_it_decodes_rfc6868_carets_in_parameters():
    data = card(
        "ADR;TYPE=home;LABEL=\"12 Rue de la Paix^n75002 Paris^n^'Le Marais^'\":"
        ";;12 Rue de la Paix;Paris;;75002;France\nFN:Camille",
        version="4.0",
    ).encode()
    parsed = parse_card(read_vcard_file(data).blocks[0])
    (adr,) = parsed.all("ADR")
    assert adr.param("LABEL") == '12 Rue de la Paix\n75002 Paris\n"Le Marais"'
    assert adr.components[2:4] == ["12 Rue de la Paix", "Paris"]


# --------------------------------------------------------------------------------------
# Entries, handles and transactions


def test_it_numbers_a_directory_handle_that_is_taken_and_falls_back_to_contact(tmp_path):
    services.entry_create(nickname="Someone Else", handle="john-doe")
    text = card("FN:John Doe\nEMAIL:jd@example.com") + card("FN:😀\nEMAIL:smile@example.com")
    run(write(tmp_path, "names.vcf", text))
    assert entry_for("John Doe").handle == "john-doe-2"
    assert entry_for("😀").handle == "contact-1"


def test_it_updates_a_card_whose_content_changed(tmp_path):
    first = card(
        "UID:card-7\nFN:Rui Costa\nEMAIL;TYPE=work:rui@example.com\n"
        "TEL;TYPE=cell:+1 202 555 0111\nIMPP:xmpp:rui@example.net"
    )
    path = write(tmp_path, "rui.vcf", first)
    run(path)
    rui = entry_for("Rui Costa")
    changed = card(
        "UID:card-7\nFN:Rui M. Costa\nEMAIL;TYPE=home:rui@example.com\n"
        "IMPP:xmpp:rui@example.net\nIMPP;TYPE=MATRIX:@rui:example.org"
    )
    path.write_bytes(changed.encode())

    out, _ = run(path)

    assert "Entries: 0 created, 1 updated, 0 unchanged" in out
    rui.refresh_from_db()
    assert (rui.nickname, rui.handle) == ("Rui M. Costa", "rui-costa")
    assert handles(rui) == {
        ("email", "rui@example.com"),
        ("xmpp", "rui@example.net"),
        ("matrix", "@rui:example.org"),
    }
    assert endpoint_uris(rui) == [
        "mailto:rui@example.com",
        "xmpp:rui@example.net",
        "https://matrix.to/#/@rui:example.org",
    ]
    assert rui.endpoints.get(uri="mailto:rui@example.com").label == "home"
    assert "0 updated, 1 unchanged" in run(path)[0]


def test_it_keeps_a_card_without_uid_the_same_when_only_its_photo_or_rev_changed(tmp_path):
    path = write(
        tmp_path,
        "photo.vcf",
        card("FN:Nadia\nEMAIL:nadia@example.com\nREV:20240101T000000Z\nPHOTO;ENCODING=b:AAAA"),
    )
    run(path)
    path.write_bytes(
        card("FN:Nadia\nPHOTO;ENCODING=b:BBBB\nREV:20250101T000000Z\nEMAIL:nadia@example.com")
        .replace("\n", "\r\n")
        .encode()
    )
    out, _ = run(path)
    assert "Entries: 0 created, 0 updated, 1 unchanged" in out
    assert Entry.objects.get().import_key.startswith("sha256:")


def test_it_leaves_an_entry_its_owner_has_taken_over(tmp_path):
    path = write(tmp_path, "owned.vcf", card("UID:owned-1\nFN:Ines\nEMAIL:ines@example.com"))
    run(path)
    owner = get_user_model().objects.create_user(username="ines", password="x" * 16)
    Entry.objects.filter(nickname="Ines").update(owner=owner)
    path.write_bytes(card("UID:owned-1\nFN:Somebody Else\nEMAIL:other@example.com").encode())

    out, err = run(path)

    assert "1  its entry is managed by its owner now; left as it is" in out
    assert f"{path}:1: card skipped: its entry @ines is managed by its owner" in err
    assert entry_for("Ines").handles.get().canonical == "ines@example.com"


def test_it_imports_a_repeated_card_once(tmp_path):
    same = card("FN:Twice\nEMAIL:twice@example.com")
    out, _ = run(write(tmp_path, "twice.vcf", same + same))
    assert Entry.objects.filter(nickname="Twice").count() == 1
    assert "1  repeats an earlier card of this import (same UID or same content)" in out


def test_it_keeps_nothing_of_a_card_that_fails_half_way(tmp_path, monkeypatch):
    real_endpoint_add = importing.endpoint_add

    def endpoint_add_failing_on_xmpp(**kwargs):
        if kwargs["uri"].startswith("xmpp:"):
            raise DatabaseError("the database went away")
        return real_endpoint_add(**kwargs)

    monkeypatch.setattr(importing, "endpoint_add", endpoint_add_failing_on_xmpp)
    text = (
        card("FN:Before\nEMAIL:before@example.com")
        + card("FN:Halfway\nEMAIL:half@example.com\nIMPP:xmpp:half@example.net")
        + card("FN:After\nEMAIL:after@example.com")
    )
    path = write(tmp_path, "halfway.vcf", text)

    out, err = run(path)

    assert f"{path}:6: card not imported, nothing of it kept: the database went away" in err
    assert set(Entry.objects.values_list("nickname", flat=True)) == {"Before", "After"}
    assert not Handle.objects.filter(canonical__startswith="half").exists()
    assert not Endpoint.objects.filter(uri="mailto:half@example.com").exists()


# --------------------------------------------------------------------------------------
# The command line


def test_it_fails_only_when_nothing_could_be_read(tmp_path):
    good = write(tmp_path, "good.vcf", card("FN:Good\nEMAIL:good@example.com"))
    missing = tmp_path / "missing.vcf"
    _, err = run(missing, good)
    assert f"{missing}: cannot read the file: No such file or directory" in err
    not_vcard = write(tmp_path, "notes.txt", "just some notes\n")
    with pytest.raises(CommandError, match="No card could be read"):
        run(missing, not_vcard)


def test_it_refuses_an_unknown_region(tmp_path):
    with pytest.raises(CommandError, match="--region"):
        run(write(tmp_path, "a.vcf", card("FN:A B")), region="XX")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_shows_a_progress_bar_on_a_terminal_for_a_large_file(tmp_path):
    many = "".join(card(f"FN:Person {n}") for n in range(100))
    path = write(tmp_path, "many.vcf", many)
    terminal = _Terminal()
    run(path, stderr=terminal)
    assert "/100" in terminal.getvalue()
    quiet = _Terminal()
    out = io.StringIO()
    call_command("import_vcards", str(path), no_progress=True, stdout=out, stderr=quiet)
    assert quiet.getvalue() == ""
    assert "0 created, 0 updated, 100 unchanged" in out.getvalue()


def test_the_demo_directory_imports_cleanly():
    demo_files = sorted(DEMO.glob("*.vcf"))
    out, err = run(*demo_files, region=None, verbosity=2)
    assert err == ""
    assert "Cards skipped: 0" in out and "Properties skipped: 0" in out
    entries = Entry.objects.count()
    assert 25 <= entries <= 40
    assert Endpoint.objects.filter(scheme="tel").exclude(audience="contacts").count() == 0
    assert {"xmpp", "sip", "matrix", "skype", "email", "web"} <= set(
        Handle.objects.values_list("kind", flat=True)
    )
    scripts = "".join(Entry.objects.values_list("nickname", flat=True))
    for sample in ("Д", "Ε", "山", "김", "ع", "נ", "ส", "ত", "ბ", "Ա", "አ"):
        assert sample in scripts
