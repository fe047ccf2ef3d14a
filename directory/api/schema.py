"""OpenAPI 3 pieces the operations share: problem responses, path parameters, headers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from directory.api.serializers import ProblemSerializer
from directory.exceptions import PROBLEM_BASE, PROBLEM_CONTENT_TYPE

_PROBLEMS = {
    400: (
        "The request cannot be read: a missing or malformed parameter or field. "
        "`errors` lists the messages per field.",
        "invalid-request",
        "The request is not valid",
        "handle: This field is required.",
    ),
    401: (
        "Sign-in required (Basic or session authentication, or an OAuth2 bearer token "
        "acting for the person), or the bearer token is unknown, expired or revoked "
        '(`WWW-Authenticate: Bearer error="invalid_token"`, RFC 6750 §3.1).',
        "unauthenticated",
        "Authentication required",
        "Authentication credentials were not provided.",
    ),
    403: (
        "Signed in, but not the owner of this entry (the entry is visible, so saying so "
        "reveals nothing), or the entry is suspended and cannot be changed; or the OAuth2 "
        "token lacks the operation's scope (`insufficient_scope`, RFC 6750 §3.1) or acts "
        "for no person (client credentials).",
        "forbidden",
        "Forbidden",
        "Only the owner of this entry may manage it.",
    ),
    404: (
        "Nothing answers here. A missing entry and one hidden from the caller get this "
        "same response, byte for byte.",
        "not-found",
        "Not found",
        "No entry answers to that handle.",
    ),
    409: (
        "The change clashes with the directory: the handle is taken or looks too much "
        "like a taken one (UTS #39 confusables), or is verified by another entry.",
        "handle-taken",
        "That handle is taken",
        "@eIonmusk looks too much like @elonmusk, which is taken.",
    ),
    429: (
        "Too many requests from this client; `Retry-After` says how many seconds to wait.",
        "rate-limited",
        "Too many requests",
        "Request was throttled. Expected available in 12 seconds.",
    ),
}


def problem_responses(*codes: int) -> dict:
    """OpenAPI responses for the given HTTP status codes, each an RFC 9457 problem
    document served as ``application/problem+json``, with an example.

    Input: status codes among 400, 401, 403, 404, 409, 429. Output: a dict for the
    ``responses`` argument of :func:`drf_spectacular.utils.extend_schema`.
    """
    responses = {}
    for code in codes:
        description, slug, title, detail = _PROBLEMS[code]
        example = {"type": PROBLEM_BASE + slug, "title": title, "status": code, "detail": detail}
        if code == 400:
            example["errors"] = {"handle": ["This field is required."]}
        responses[(code, PROBLEM_CONTENT_TYPE)] = OpenApiResponse(
            ProblemSerializer,
            description=description,
            examples=[OpenApiExample(title, value=example, status_codes=[code])],
        )
    return responses


ENTRY_HANDLE = OpenApiParameter(
    "handle",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The entry's directory handle, with or without the @ (`alice`, `@alice`); "
    "compared case-insensitively.",
)

PROOF = OpenApiParameter(
    "proof",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    required=False,
    description="`1` (or `true`) adds what a caller needs to check the answer against the "
    "transparency log (docs/transparency.md): `proof`, a c2sp.org/tlog-proof@v1 text "
    "(leaf index, inclusion proof, signed checkpoint with witness cosignatures), `leaf`, "
    "the handle's latest binding record (the log entry) and `endpoint_salts`, the salt "
    "opening the record's commitment to each endpoint of this answer, in order. They are "
    "null when the log holds no published record of the handle yet.",
)

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before the next request (RFC 9110 §10.2.3).",
)

LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[201],
    description="The URL of the created resource.",
)
