"""OpenAPI 3 pieces the operations share: problem responses, path parameters, headers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from directory.api.serializers import ProblemSerializer
from directory.exceptions import PROBLEM_BASE, PROBLEM_CONTENT_TYPE

_PROBLEMS = {
    400: (
        "The request cannot be read: a missing or malformed parameter or field, a field "
        "the operation does not take, or a control character (such as NUL) in the path, "
        "the query or a field. `errors` lists the messages per field.",
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


# What the edge refuses (directory.edge), as JSON Schema patterns: no C0 or C1 control or DEL
# in a path, query or header value, a field's name or an identifier; free text may also hold
# tab and line breaks. ECMA-262 regular expressions, as OpenAPI asks.
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
NO_CONTROL_IN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

# Answers any API operation may give whatever it does: a request the edge or the parsers
# refuse, and a client over its rate.
_EVERY_OPERATION = (400, 429)


def _constrain_strings(schema: dict, components: dict, pattern: str, seen: set[str]) -> None:
    """Give every string of ``schema`` without an enum, a format or a pattern of its own
    the ``pattern``; follow ``$ref`` into ``components`` once each (``seen``)."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _constrain_strings(components[name], components, pattern, seen)
        return
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            _constrain_strings(part, components, pattern, seen)
    if schema.get("type") == "string" and not ({"enum", "format", "pattern"} & schema.keys()):
        schema["pattern"] = pattern
    if isinstance(schema.get("items"), dict):
        _constrain_strings(schema["items"], components, pattern, seen)
    for prop in schema.get("properties", {}).values():
        _constrain_strings(prop, components, pattern, seen)


def state_what_the_edge_enforces(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: the schema states what every API request
    goes through before its view, so that a client (or a fuzzer) that keeps to the schema
    is never refused for something the schema allows.

    Input and output: the OpenAPI 3 document (changed in place and returned). Adds to
    every operation under ``/api/`` the 400 and 429 problem responses (and ``Retry-After``
    on 429) it lacks; gives every string parameter and every string of a request body
    without a format, enum or pattern of its own a pattern that excludes the control
    characters the edge refuses (directory.edge); marks request bodies
    ``additionalProperties: false``, as the input serializers refuse unknown fields
    (:class:`directory.api.serializers.InputSerializer`).
    """
    components = result.get("components", {}).get("schemas", {})
    bodies: set[str] = set()
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code in _EVERY_OPERATION:
                if str(code) not in responses:
                    responses[str(code)] = _problem_response_object(code)
            retry = responses["429"].setdefault("headers", {})
            retry.setdefault(
                "Retry-After",
                {
                    "schema": {"type": "integer"},
                    "description": RETRY_AFTER.description,
                },
            )
            for parameter in operation.get("parameters", []):
                _constrain_strings(parameter.get("schema", {}), components, NO_CONTROL, set())
            for media in operation.get("requestBody", {}).get("content", {}).values():
                schema = media.get("schema", {})
                ref = schema.get("$ref")
                if ref:
                    bodies.add(ref.rsplit("/", 1)[-1])
                _constrain_strings(schema, components, NO_CONTROL_IN_TEXT, set())
    for name in bodies:
        if components.get(name, {}).get("type") == "object":
            components[name]["additionalProperties"] = False
    return result


def _problem_response_object(code: int) -> dict:
    description, slug, title, detail = _PROBLEMS[code]
    example = {"type": PROBLEM_BASE + slug, "title": title, "status": code, "detail": detail}
    return {
        "description": description,
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {title.replace(" ", ""): {"value": example, "summary": title}},
            }
        },
    }
