"""Request body parsers of the API."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (RFC 8259), refusing nesting too deep to decode as a 400.

    Python's decoder raises ``RecursionError`` on a document such as a hundred thousand
    ``[``; DRF turns only ``ValueError`` into a parse error, so without this the request
    would end in a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
