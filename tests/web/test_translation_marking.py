"""Every string a person reads in a template is marked for translation.

Each template of the project (``templates/`` and every project app's ``templates/``,
pages and emails) is read with Django's own template lexer. Text outside
``{% translate %}``, ``{% blocktranslate %}`` and comments, once HTML tags, character
references and template variables are taken out, must hold no letter; nor may the
attributes a person reads or hears (``placeholder``, ``aria-label``, ``title``, ``alt``,
and the ``value`` of a button). A few names that are never translated are allowed
(``ALLOWED_WORDS``), and so is code (``<code>``, ``<kbd>``, ``<samp>``: URI schemes,
JSON members).
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.template.base import Lexer, TokenType

# Names and protocol words that stay as they are in every language.
ALLOWED_WORDS = (
    "Worldbook",
    "vCard",
    "WebFinger",
    "JSON",
    "API",
    "OAuth",
    "OAuth2",
    "PKCE",
    "UTC",
)

# Attributes a person reads or hears; "value" only on buttons.
READ_ATTRIBUTES = {"placeholder", "aria-label", "title", "alt", "aria-placeholder"}
BUTTON_INPUT_TYPES = {"submit", "button", "reset"}
# Elements whose text is code or a machine value (a URI scheme, a JSON member), not prose.
UNREAD_ELEMENTS = {"script", "style", "code", "kbd", "samp"}
# Stands for a template variable or tag in the flattened template: no letter in it.
MARK = "\x00"
SKIPPED_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
    "verbatim": "endverbatim",
}


def template_roots() -> list[Path]:
    """The project's template directories: the settings' ``DIRS`` and the ``templates``
    folder of every installed app that lives in the project."""
    base = Path(settings.BASE_DIR).resolve()
    roots = [Path(d).resolve() for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    for config in apps.get_app_configs():
        folder = Path(config.path).resolve() / "templates"
        # The project's own apps: a virtualenv inside the checkout holds other people's.
        if folder.is_dir() and base in folder.parents and "site-packages" not in folder.parts:
            roots.append(folder)
    return roots


def project_templates() -> dict[str, Path]:
    """Every page and email template of the project, by its template name."""
    found: dict[str, Path] = {}
    for root in template_roots():
        for path in sorted(root.rglob("*")):
            if path.suffix in {".html", ".txt"} and path.is_file():
                found.setdefault(path.relative_to(root).as_posix(), path)
    return found


def flatten(source: str) -> str:
    """The template as a reader sees its untranslated parts: translated blocks,
    comments, variables and tags replaced by ``MARK``."""
    out: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if closing is not None:
            if token.token_type == TokenType.BLOCK and token.split_contents()[0] == closing:
                closing = None
            continue
        if token.token_type == TokenType.TEXT:
            out.append(token.contents)
        elif token.token_type == TokenType.BLOCK:
            bits = token.split_contents()
            closing = SKIPPED_BLOCKS.get(bits[0])
            if bits[0] == "block" and len(bits) > 1 and bits[1].endswith("class"):
                # A block filling a class attribute ({% block bodyclass %}): not read.
                closing = "endblock"
            out.append(MARK)
        elif token.token_type == TokenType.VAR:
            out.append(MARK)
    return "".join(out)


def _has_letter(text: str) -> bool:
    for word in ALLOWED_WORDS:
        text = re.sub(rf"(?<![\w]){re.escape(word)}(?![\w])", " ", text)
    return any(unicodedata.category(char).startswith("L") for char in text)


def _shown(text: str) -> str:
    return " ".join(text.replace(MARK, " ").split())


class _Reader(HTMLParser):
    """Collects the text and read attributes of a flattened template that hold letters."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value"
                # A <button>'s value is sent, never shown; an input button's is its label.
                and tag == "input"
                and (values.get("type") or "").lower() in BUTTON_INPUT_TYPES
            )
            if readable and value and _has_letter(value.replace(MARK, " ")):
                self.problems.append(f'<{tag} {name}="{_shown(value)}">')
        if tag in UNREAD_ELEMENTS:
            self._skip += 1

    def handle_endtag(self, tag) -> None:
        if tag in UNREAD_ELEMENTS and self._skip:
            self._skip -= 1

    def handle_data(self, data) -> None:
        if not self._skip and _has_letter(data.replace(MARK, " ")):
            self.problems.append(_shown(data))


def untranslated(source: str) -> list[str]:
    """What a person would read in ``source`` (a template) that is not marked for
    translation: text and read attributes, each without its variables and tags."""
    text = re.sub(r"<!--.*?-->", " ", flatten(source), flags=re.S)
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.problems


TEMPLATES = project_templates()


def _params():
    for name in sorted(TEMPLATES):
        yield pytest.param(name, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_every_string_a_person_reads_is_marked_for_translation(name):
    assert untranslated(TEMPLATES[name].read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("<p>Hello</p>", ["Hello"]),
        ('{% load i18n %}<p>{% translate "Hello" %}</p>', []),
        ("{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}", []),
        ("{% comment %}Notes for developers{% endcomment %}{# a note #}", []),
        ("<p>{{ entry.nickname }} · @{{ entry.handle }} &mdash; 3</p>", []),
        ("<title>{% block title %}Worldbook{% endblock %}</title>", []),
        ('<input placeholder="Search people">', ['<input placeholder="Search people">']),
        ('<img alt="{% translate "Logo" %}">', []),
        ('<input type="submit" value="Authorize">', ['<input value="Authorize">']),
        ('<button name="direction" value="up">{{ label }}</button>', []),
        ('<input type="hidden" name="apply" value="yes">', []),
        ("<script>let a = 1;</script><!-- a note -->", []),
        ('<body class="{% block bodyclass %}change-form{% endblock %}">', []),
        ("{% if x %}Ready{% endif %}", ["Ready"]),
        ("<p>Grüße</p>", ["Grüße"]),
        ("<p><code>sip:</code>, <code>href</code></p>", []),
    ],
)
def test_the_check_finds_what_it_should(source, found):
    assert untranslated(source) == found
