"""The contacts API: a signed-in person's address book, ``/api/v1/contacts``.

Every operation acts for one entry of the caller: the one named by ``?as=<handle>``, or
the caller's first (oldest) entry. A calling app acting for the person needs the OAuth2
scope ``contacts:read`` to list contacts and ``entry:write`` to change them; a token from
client credentials acts for no one and is refused. Errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import phonenumbers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.contacts import (
    IMPORT_MAX_BYTES,
    NOTE_MAX,
    FileTooLarge,
    acting_entry,
    contact_remove,
    contact_save_by_handle,
    contacts_import_vcard,
    contacts_list,
    import_size_check,
    upload_size_check,
)
from accounts.oauth import CONTACTS
from directory.api.lookup import errors_on
from directory.api.schema import ENTRY_HANDLE, problem_responses
from directory.api.serializers import EntrySerializer, ProblemSerializer, RequestBodySerializer
from directory.exceptions import PROBLEM_BASE, PROBLEM_CONTENT_TYPE, ConflictError
from directory.vcards import VCardSyntaxError

ACTING_AS = OpenApiParameter(
    "as",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="The directory handle of the caller's entry whose address book to use, "
    "for a caller who owns several entries. Default: the caller's first (oldest) entry.",
)
CONTACT_PROBLEMS = (401, 403, 404)

_TOO_LARGE = {
    (413, PROBLEM_CONTENT_TYPE): OpenApiResponse(
        ProblemSerializer,
        description=f"The file is larger than {IMPORT_MAX_BYTES} bytes.",
        examples=[
            OpenApiExample(
                "Too large",
                value={
                    "type": PROBLEM_BASE + FileTooLarge.slug,
                    "title": FileTooLarge.title,
                    "status": 413,
                    "detail": f"The file has 3000000 bytes; at most {IMPORT_MAX_BYTES} "
                    "(2 MiB) are accepted.",
                },
                status_codes=[413],
            )
        ],
    )
}


def _acting(request: Request):
    return acting_entry(user=request.user, handle=request.query_params.get("as"))


class ContactSerializer(serializers.Serializer):
    """A saved entry, as the address book lists it."""

    entry = EntrySerializer(source="saved")
    note = serializers.CharField(allow_blank=True)
    saved_at = serializers.DateTimeField(source="created_at")

    class Meta:
        ref_name = "Contact"


class ContactListApi(APIView):
    """List the caller's contacts."""

    permission_classes = [IsAuthenticated, CONTACTS]

    @extend_schema(
        operation_id="contacts_list",
        summary="List contacts",
        description="The entries saved in the caller's address book, newest first. "
        "Saving someone opens your `contacts` endpoints to them.",
        parameters=[ACTING_AS],
        responses={200: ContactSerializer(many=True), **problem_responses(*CONTACT_PROBLEMS)},
    )
    def get(self, request: Request, version: str) -> Response:
        owner = _acting(request)
        contacts = contacts_list(owner=owner, user=request.user)
        return Response(ContactSerializer(contacts, many=True).data)


class ContactSaveApi(APIView):
    """Save an entry in the caller's address book."""

    permission_classes = [IsAuthenticated, CONTACTS]

    class InputSerializer(RequestBodySerializer):
        handle = serializers.CharField(
            max_length=200, help_text="The directory handle to save (`bob` or `@bob`)."
        )
        note = serializers.CharField(
            max_length=NOTE_MAX, required=False, default="", allow_blank=True
        )

        class Meta:
            ref_name = "ContactSave"

    @extend_schema(
        operation_id="contacts_create",
        summary="Save a contact",
        description="Saves the entry with this directory handle: 201 when it is new, 200 "
        "when it was saved before (unchanged). A missing entry and one hidden from the "
        "caller get the same 404; an entry cannot save itself (409).",
        parameters=[ACTING_AS],
        request=InputSerializer,
        responses={
            201: ContactSerializer,
            200: ContactSerializer,
            **problem_responses(400, *CONTACT_PROBLEMS, 409),
        },
        examples=[OpenApiExample("Save Bob", value={"handle": "@bob"}, request_only=True)],
    )
    def post(self, request: Request, version: str) -> Response:
        owner = _acting(request)
        given = ContactSaveApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("handle", ConflictError):
            contact, created = contact_save_by_handle(
                owner=owner, user=request.user, **given.validated_data
            )
        return Response(
            ContactSerializer(contact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ContactsApi(ContactListApi, ContactSaveApi):
    """``/contacts``: the caller lists and saves contacts."""

    permission_classes = [IsAuthenticated, CONTACTS]


class ContactApi(APIView):
    """``/contacts/{handle}``: remove a contact."""

    permission_classes = [IsAuthenticated, CONTACTS]

    @extend_schema(
        operation_id="contacts_destroy",
        summary="Remove a contact",
        description="Removes the entry with this directory handle from the address book; "
        "404 when it is not there.",
        parameters=[ENTRY_HANDLE, ACTING_AS],
        responses={204: None, **problem_responses(*CONTACT_PROBLEMS)},
    )
    def delete(self, request: Request, version: str, handle: str) -> Response:
        contact_remove(owner=_acting(request), handle=handle)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportCardSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the card's BEGIN:VCARD in the file.")
    name = serializers.CharField(help_text="The card's name (FN, N, NICKNAME or email).")
    matched = serializers.ListField(
        child=serializers.CharField(),
        help_text="Directory handles of the entries the card matched; empty when the "
        "person is not in Worldbook.",
    )

    class Meta:
        ref_name = "ContactImportCard"


class ImportProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    message = serializers.CharField()

    class Meta:
        ref_name = "ContactImportProblem"


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent as a multipart/form-data part: ``format: binary`` in the schema (a
    plain FileField is described by the URL it would be read back as)."""


class ContactImportApi(APIView):
    """Import a vCard file into the caller's address book."""

    permission_classes = [IsAuthenticated, CONTACTS]
    parser_classes = [MultiPartParser]

    class InputSerializer(RequestBodySerializer):
        file = UploadField(
            help_text=f"A vCard file (2.1, 3.0 or 4.0), at most {IMPORT_MAX_BYTES} bytes."
        )
        region = serializers.CharField(
            required=False,
            min_length=2,
            max_length=2,
            help_text="ISO 3166-1 alpha-2 region to read national phone numbers in; "
            "without it only international (+…) numbers are matched.",
        )

        class Meta:
            ref_name = "ContactImportUpload"

        def validate_region(self, value: str) -> str:
            region = value.upper()
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise serializers.ValidationError(f"{value!r} is not a region code.")
            return region

    class OutputSerializer(serializers.Serializer):
        summary = serializers.CharField(help_text="`12 cards: 7 matched, 5 not in Worldbook`")
        cards = serializers.IntegerField(source="card_count")
        matched = ImportCardSerializer(many=True)
        unmatched = ImportCardSerializer(many=True)
        saved = serializers.IntegerField(help_text="Contacts new to the address book.")
        already = serializers.IntegerField(help_text="Matched entries saved before.")
        problems = ImportProblemSerializer(many=True, help_text="Lines that cannot be read.")

        class Meta:
            ref_name = "ContactImport"

    @extend_schema(
        operation_id="contacts_import",
        summary="Import a vCard file into contacts",
        description="Reads each card and saves the entries it matches through a "
        "*verified* handle (email address, E.164 number against verified WhatsApp or "
        "Signal numbers of entries findable by number, IMPP and social profiles, web "
        "address) or through the entry's own page URL or acct: URI in `URL`/`IMPP`. "
        "Cards that match nothing are reported, never made into entries. Lines that "
        "cannot be read are listed with their line numbers. All or nothing: an error "
        "leaves the address book unchanged.",
        parameters=[ACTING_AS],
        request={"multipart/form-data": InputSerializer},
        responses={
            200: OutputSerializer,
            **problem_responses(400, *CONTACT_PROBLEMS),
            **_TOO_LARGE,
        },
    )
    def post(self, request: Request, version: str) -> Response:
        # Before anything reads the body (a session's CSRF check parses the form).
        upload_size_check(request.META.get("CONTENT_LENGTH"))
        owner = _acting(request)
        given = ContactImportApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        # Refused before the file is read into memory.
        import_size_check(upload.size)
        with errors_on("file", VCardSyntaxError):
            report = contacts_import_vcard(
                owner=owner,
                user=request.user,
                data=upload.read(),
                region=given.validated_data.get("region"),
            )
        body = {
            "summary": report.summary(),
            "card_count": len(report.cards),
            "matched": report.matched,
            "unmatched": report.unmatched,
            "saved": report.saved,
            "already": report.already,
            "problems": [{"line": line, "message": msg} for line, msg in report.problems],
        }
        return Response(ContactImportApi.OutputSerializer(body).data)
