"""Output serializers the API's operations share: entries, handles, endpoints, problems.

Each operation keeps its own input serializer (and its own output serializer where the
shape is its alone) nested in its API class; these are the building blocks they share,
so an entry, a handle or an endpoint looks the same in every response.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from directory.display import handle_display, handle_uri
from directory.models import Endpoint, Entry, Handle
from directory.normalization import EndpointScheme, HandleKind
from directory.services import CAPABILITIES


# Base of the serializers that read a request body. Its description is on the method, not
# the class: drf-spectacular would give a class docstring to every subclass without one.
class RequestBodySerializer(serializers.Serializer):
    ignored_fields = frozenset({"csrfmiddlewaretoken"})

    def to_internal_value(self, data):
        """Refuse a field the operation does not take instead of ignoring it, so a
        misspelt field never passes unnoticed and the schema can say so
        (``additionalProperties: false``, :mod:`directory.api.schema`).

        Input: the request's data (a dict or QueryDict). Output: DRF's validated data.
        Raises ``ValidationError`` (400 problem document) with one error per unknown
        field, or per text field given something else than a string (DRF would read a
        number as its digits). The browsable API's CSRF token is let through.
        """
        if hasattr(data, "keys"):
            unknown = [
                str(name)
                for name in data.keys()
                if name not in self.fields and name not in self.ignored_fields
            ]
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This operation takes no such field."] for name in unknown}
                )
            # DRF's CharField reads a JSON number as its digits; the schema says string.
            not_text = [
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and name in data
                and data[name] is not None
                and not isinstance(data[name], str)
            ]
            if not_text:
                raise serializers.ValidationError({name: ["Not a string."] for name in not_text})
        return super().to_internal_value(data)


class EntrySerializer(serializers.Serializer):
    """An entry as anyone who may see it sees it."""

    handle = serializers.CharField(
        source="at_handle", help_text="The directory handle with its @ (`@alice`)."
    )
    nickname = serializers.CharField(help_text="The display name people search for.")
    acct = serializers.CharField(
        source="acct_uri",
        help_text="The entry's acct: URI (RFC 7565), the resource WebFinger answers for.",
    )
    url = serializers.URLField(source="profile_url", help_text="The entry's public page.")

    class Meta:
        ref_name = "Entry"


class OwnerEntrySerializer(EntrySerializer):
    """An entry as its owner sees it: the public fields and its settings."""

    discoverable = serializers.BooleanField(
        help_text="Listed in search results. Unlisted entries still resolve."
    )
    findable_by_number = serializers.BooleanField(
        help_text="Found by a lookup of a phone number it holds as a verified WhatsApp "
        "or Signal handle (or has retired)."
    )
    status = serializers.ChoiceField(
        choices=Entry.Status.choices,
        help_text="`suspended` entries are hidden from everyone but their owner.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "OwnerEntry"


class HandleVerificationSerializer(serializers.Serializer):
    """How a verified handle was verified."""

    method = serializers.CharField(
        allow_null=True,
        help_text="The verification method (`email_code`, `domain`, `rel_me`, `fediverse`, "
        "`atproto`, `github`, `proof_url`), `demo` for demo data that proves nothing, or "
        "null when a moderator verified the handle.",
    )
    note = serializers.CharField(
        allow_null=True,
        help_text='"demo data, not a proof" for a handle of the demo directory; else null.',
    )

    class Meta:
        ref_name = "HandleVerification"


DEMO_NOTE = "demo data, not a proof"


class HandleSerializer(serializers.Serializer):
    """An external handle claimed by an entry, with its verification evidence."""

    kind = serializers.ChoiceField(choices=HandleKind.CHOICES)
    value = serializers.CharField(
        source="canonical",
        help_text="The canonical form (hosts as IDNA A-labels): what lookups compare.",
    )
    display = serializers.SerializerMethodField(
        help_text="The handle as people write it, hosts as Unicode U-labels."
    )
    uri = serializers.SerializerMethodField(
        help_text="A URI identifying the handle's profile (https, acct:, xmpp:, sip:, "
        "mailto:), or null when the handle has none."
    )
    status = serializers.ChoiceField(
        choices=Handle.Status.choices,
        help_text="Only `verified` handles answer lookups; a claim in any other state "
        "is not evidence of ownership.",
    )
    verified_at = serializers.DateTimeField(
        allow_null=True, help_text="When ownership was last proved (null if never)."
    )
    verification = serializers.SerializerMethodField(
        help_text="How a `verified` handle was verified (null for a handle that is not): "
        '`{"method": "demo", "note": "demo data, not a proof"}` marks demo data, which '
        "proves nothing."
    )

    class Meta:
        ref_name = "Handle"

    def get_display(self, handle: Handle) -> str:
        return handle_display(handle)

    @extend_schema_field(HandleVerificationSerializer(allow_null=True))
    def get_verification(self, handle: Handle) -> dict | None:
        if not handle.is_verified:
            return None
        return {
            "method": handle.verified_by or None,
            "note": DEMO_NOTE if handle.is_demo else None,
        }

    def get_uri(self, handle: Handle) -> str | None:
        return handle_uri(handle)


class OwnerHandleSerializer(HandleSerializer):
    """A handle as the entry's owner manages it."""

    id = serializers.IntegerField(help_text="Names the claim in `/handles/{id}`.")
    raw = serializers.CharField(help_text="The handle as the owner first gave it.")
    checked_at = serializers.DateTimeField(
        allow_null=True, help_text="When the proof was last checked (null if never)."
    )

    class Meta:
        ref_name = "OwnerHandle"


class EndpointSerializer(serializers.Serializer):
    """A URI at which the entry can be reached."""

    uri = serializers.CharField(help_text="The normalized endpoint URI (`sip:`, `xmpp:` …).")
    href = serializers.CharField(
        help_text="The link a client opens (`matrix:` URIs become matrix.to links)."
    )
    scheme = serializers.ChoiceField(choices=EndpointScheme.CHOICES)
    service = serializers.CharField(help_text="The network: sip, matrix, whatsapp, email …")
    capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=CAPABILITIES),
        help_text="What the endpoint is for: a subset of voice, video, text.",
    )
    preference = serializers.IntegerField(
        help_text="Lower comes first; callers try endpoints in this order."
    )
    label = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "Endpoint"


class OwnerEndpointSerializer(EndpointSerializer):
    """An endpoint as the entry's owner manages it, with who may use it."""

    id = serializers.IntegerField(help_text="Names the endpoint in `/endpoints/{id}`.")
    audience = serializers.ChoiceField(
        choices=Endpoint.Audience.choices,
        help_text="Who may see and use the endpoint: everyone, signed-in people, "
        "verified callers, the owner's contacts, or nobody but the owner.",
    )

    class Meta:
        ref_name = "OwnerEndpoint"


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem details document (``application/problem+json``)."""

    type = serializers.URLField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField(help_text="A short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per input field (`non_field_errors` for the request as a whole).",
    )

    class Meta:
        ref_name = "Problem"
