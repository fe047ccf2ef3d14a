"""The moderators' console for entries, handles and endpoints (Django admin).

Every save, delete and action goes through :mod:`directory.services`, so the admin holds
the same rules as the API: handles are normalized, look-alike directory handles are
refused, the search index follows after commit. Input the services would refuse is
caught while the form is validated and shown as a form error; a clash that slips in
between validation and save (another request took the handle) rolls the whole save back
and comes back as an error message.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from directory.exceptions import NormalizationError, WorldbookError
from directory.models import Endpoint, Entry, Handle, OutboxMessage
from directory.normalization import (
    clean_display,
    normalize_directory_handle,
    normalize_endpoint_uri,
    normalize_handle,
    skeleton,
)
from directory.services import (
    directory_handle_check_available,
    endpoint_add,
    endpoint_remove,
    endpoint_update,
    entry_create,
    entry_delete,
    entry_set_status,
    entry_update,
    handle_add,
    handle_mark_verified,
    handle_remove,
    handle_revoke,
)


def _adopt(target, saved) -> None:
    """Make the admin's unsaved instance the row a service saved.

    The admin keeps using the object its form built (for inlines, the log and the
    redirect), so it takes over the saved row's field values and database state.
    """
    for field in type(saved)._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


def _query_skeleton(search_term: str) -> str:
    return skeleton(search_term.strip().lstrip("@"))


class ServiceSavesMixin:
    """Turn a service error raised during save into an admin error message."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WorldbookError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# --------------------------------------------------------------------------------------
# Forms: validate with the normalization rules the services apply


class EntryAdminForm(forms.ModelForm):
    class Meta:
        model = Entry
        fields = ["nickname", "handle", "owner", "discoverable", "status"]

    def clean_nickname(self) -> str:
        nickname = clean_display(self.cleaned_data["nickname"])
        if not nickname:
            raise forms.ValidationError("A nickname needs at least one visible character.")
        return nickname

    def clean_handle(self) -> str:
        try:
            wanted = normalize_directory_handle(self.cleaned_data["handle"])
            directory_handle_check_available(wanted.display, exclude_entry_id=self.instance.pk)
        except WorldbookError as exc:
            raise forms.ValidationError(exc.detail) from None
        return wanted.display


class HandleAdminForm(forms.ModelForm):
    class Meta:
        model = Handle
        fields = ["entry", "kind", "raw"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None:
            if {"kind", "raw"} & set(self.changed_data):
                self.add_error(
                    "raw", "A claimed handle cannot be edited: delete it and add the new one."
                )
            return data
        if data.get("kind") and data.get("raw"):
            try:
                normalize_handle(data["kind"], data["raw"])
            except NormalizationError as exc:
                self.add_error("raw", exc.detail)
        return data


class EndpointAdminForm(forms.ModelForm):
    class Meta:
        model = Endpoint
        fields = ["entry", "uri", "audience", "preference", "label", "voice", "video", "text"]
        help_texts = {
            "voice": "Leave voice, video and text all unticked on a new endpoint to use "
            "what its scheme offers."
        }

    def clean_uri(self) -> str:
        uri = self.cleaned_data["uri"]
        if self.instance.pk is not None:
            if "uri" in self.changed_data:
                raise forms.ValidationError(
                    "An endpoint's URI cannot be edited: delete it and add the new one."
                )
            return uri
        try:
            normalize_endpoint_uri(uri)
        except NormalizationError as exc:
            raise forms.ValidationError(exc.detail) from None
        return uri

    def capabilities(self) -> list[str] | None:
        """The ticked capabilities; ``None`` on a new endpoint with none ticked."""
        caps = [c for c in ("voice", "video", "text") if self.cleaned_data.get(c)]
        if not caps and self.instance.pk is None:
            return None
        return caps


def _endpoint_add_from(form: EndpointAdminForm, entry: Entry) -> Endpoint:
    data = form.cleaned_data
    return endpoint_add(
        entry=entry,
        uri=data["uri"],
        audience=data["audience"],
        preference=data["preference"],
        label=data.get("label") or "",
        capabilities=form.capabilities(),
    )


def _endpoint_update_from(form: EndpointAdminForm, endpoint: Endpoint) -> Endpoint:
    data = form.cleaned_data
    return endpoint_update(
        endpoint=endpoint,
        audience=data["audience"],
        preference=data["preference"],
        label=data.get("label") or "",
        capabilities=form.capabilities(),
    )


# --------------------------------------------------------------------------------------
# Entries


class HandleInline(admin.TabularInline):
    model = Handle
    form = HandleAdminForm
    fields = ("kind", "raw", "canonical", "status", "verified_at")
    readonly_fields = ("canonical", "status", "verified_at")
    extra = 1
    show_change_link = True


class EndpointInline(admin.TabularInline):
    model = Endpoint
    form = EndpointAdminForm
    fields = ("uri", "service", "audience", "preference", "label", "voice", "video", "text")
    readonly_fields = ("service",)
    extra = 1


@admin.register(Entry)
class EntryAdmin(ServiceSavesMixin, admin.ModelAdmin):
    form = EntryAdminForm
    inlines = [HandleInline, EndpointInline]
    list_display = (
        "at_handle",
        "nickname",
        "status",
        "discoverable",
        "has_verified_handle",
        "owner",
        "created_at",
    )
    list_display_links = ("at_handle", "nickname")
    list_filter = ("status", "discoverable", "created_at")
    search_fields = ("handle_canonical", "nickname", "handle_skeleton", "nickname_skeleton")
    list_select_related = ("owner",)
    show_full_result_count = False
    autocomplete_fields = ("owner",)
    date_hierarchy = "created_at"
    ordering = ("handle_canonical",)
    fields = (
        "nickname",
        "handle",
        "owner",
        "discoverable",
        "status",
        "handle_canonical",
        "handle_skeleton",
        "nickname_skeleton",
        "import_key",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "handle_canonical",
        "handle_skeleton",
        "nickname_skeleton",
        "import_key",
        "created_at",
        "updated_at",
    )
    actions = ("suspend", "reinstate")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        verified = Handle.objects.filter(entry=OuterRef("pk"), status=Handle.Status.VERIFIED)
        return super().get_queryset(request).annotate(_has_verified=Exists(verified))

    def get_readonly_fields(self, request, obj=None):
        # No service moves an entry to another account.
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "owner") if obj is not None else readonly

    @admin.display(description="handle", ordering="handle_canonical")
    def at_handle(self, entry: Entry) -> str:
        return entry.at_handle

    @admin.display(description="verified", boolean=True, ordering="_has_verified")
    def has_verified_handle(self, entry: Entry) -> bool:
        return entry._has_verified

    def get_search_results(self, request, queryset, search_term):
        """Match the words as typed, and the query's UTS #39 skeleton against the stored
        skeletons, so ``eIonmusk`` (capital I) or ``еlonmusk`` (Cyrillic е) finds
        ``@elonmusk``."""
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term.replace("@", " ")
        )
        wanted = _query_skeleton(search_term)
        if wanted:
            results = results | queryset.filter(
                Q(handle_skeleton__contains=wanted) | Q(nickname_skeleton__contains=wanted)
            )
        return results, may_have_duplicates

    def save_model(self, request, obj: Entry, form: EntryAdminForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            changes = {
                name: data[name]
                for name in ("nickname", "handle", "discoverable")
                if name in form.changed_data
            }
            entry_update(entry=obj, **changes)
            if "status" in form.changed_data:
                entry_set_status(entry=obj, status=data["status"])
            return
        entry = entry_create(
            nickname=data["nickname"],
            handle=data["handle"],
            owner=data.get("owner"),
            discoverable=data["discoverable"],
        )
        if data["status"] != Entry.Status.ACTIVE:
            entry_set_status(entry=entry, status=data["status"])
        _adopt(obj, entry)

    def save_formset(self, request, form, formset, change) -> None:
        entry = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for item in formset.initial_forms + formset.extra_forms:
            if item in formset.deleted_forms:
                if item.instance.pk is not None:
                    formset.deleted_objects.append(item.instance)
                    if formset.model is Handle:
                        handle_remove(handle=item.instance)
                    else:
                        endpoint_remove(endpoint=item.instance)
                continue
            if not item.has_changed():
                continue
            data = item.cleaned_data
            if formset.model is Handle:
                if item.instance.pk is None:
                    saved = handle_add(entry=entry, kind=data["kind"], raw=data["raw"])
                    formset.new_objects.append(saved)
            elif item.instance.pk is None:
                formset.new_objects.append(_endpoint_add_from(item, entry))
            else:
                _endpoint_update_from(item, item.instance)
                formset.changed_objects.append((item.instance, item.changed_data))

    def delete_model(self, request, obj: Entry) -> None:
        # An operator may delete a suspended entry; its handle then stays reserved.
        entry_delete(entry=obj, allow_suspended=True)

    def delete_queryset(self, request, queryset: QuerySet[Entry]) -> None:
        for entry in queryset:
            entry_delete(entry=entry, allow_suspended=True)

    @admin.action(description="Suspend the selected entries (hide them everywhere)")
    def suspend(self, request, queryset: QuerySet[Entry]) -> None:
        for entry in queryset:
            entry_set_status(entry=entry, status=Entry.Status.SUSPENDED)
        self.message_user(request, f"Suspended {len(queryset)} entries.", messages.SUCCESS)

    @admin.action(description="Reinstate the selected entries")
    def reinstate(self, request, queryset: QuerySet[Entry]) -> None:
        for entry in queryset:
            entry_set_status(entry=entry, status=Entry.Status.ACTIVE)
        self.message_user(request, f"Reinstated {len(queryset)} entries.", messages.SUCCESS)


# --------------------------------------------------------------------------------------
# Handles


@admin.register(Handle)
class HandleAdmin(ServiceSavesMixin, admin.ModelAdmin):
    form = HandleAdminForm
    list_display = ("__str__", "kind", "status", "entry", "verified_at", "checked_at")
    list_filter = ("kind", "status")
    search_fields = ("canonical", "key", "skeleton", "entry__handle_canonical")
    list_select_related = ("entry",)
    show_full_result_count = False
    autocomplete_fields = ("entry",)
    fields = (
        "entry",
        "kind",
        "raw",
        "canonical",
        "key",
        "skeleton",
        "status",
        "verified_at",
        "checked_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "canonical",
        "key",
        "skeleton",
        "status",
        "verified_at",
        "checked_at",
        "created_at",
        "updated_at",
    )
    actions = ("mark_verified", "revoke")

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "entry", "kind", "raw") if obj is not None else readonly

    def get_search_results(self, request, queryset, search_term):
        """Match the words as typed, and the query's UTS #39 skeleton against the
        handles' skeletons."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        wanted = _query_skeleton(search_term)
        if wanted:
            results = results | queryset.filter(skeleton__contains=wanted)
        return results, may_have_duplicates

    def save_model(self, request, obj: Handle, form: HandleAdminForm, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        _adopt(obj, handle_add(entry=data["entry"], kind=data["kind"], raw=data["raw"]))

    def delete_model(self, request, obj: Handle) -> None:
        handle_remove(handle=obj)

    def delete_queryset(self, request, queryset: QuerySet[Handle]) -> None:
        for handle in queryset:
            handle_remove(handle=handle)

    @admin.action(description="Mark the selected handles verified (manual review)")
    def mark_verified(self, request, queryset: QuerySet[Handle]) -> None:
        done = 0
        for handle in queryset:
            try:
                handle_mark_verified(handle=handle)
            except WorldbookError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"Marked {done} handles verified.", messages.SUCCESS)

    @admin.action(description="Revoke the verification of the selected handles")
    def revoke(self, request, queryset: QuerySet[Handle]) -> None:
        for handle in queryset:
            handle_revoke(handle=handle)
        self.message_user(request, f"Revoked {len(queryset)} verifications.", messages.SUCCESS)


# --------------------------------------------------------------------------------------
# Endpoints


@admin.register(Endpoint)
class EndpointAdmin(ServiceSavesMixin, admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = (
        "uri",
        "entry",
        "service",
        "audience",
        "preference",
        "label",
        "capabilities_text",
    )
    list_filter = ("scheme", "audience", "service")
    search_fields = ("uri", "label", "entry__handle_canonical")
    list_select_related = ("entry",)
    show_full_result_count = False
    autocomplete_fields = ("entry",)
    fields = (
        "entry",
        "uri",
        "scheme",
        "service",
        "audience",
        "preference",
        "label",
        "voice",
        "video",
        "text",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("scheme", "service", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "entry", "uri") if obj is not None else readonly

    @admin.display(description="capabilities")
    def capabilities_text(self, endpoint: Endpoint) -> str:
        return ", ".join(endpoint.capabilities)

    def save_model(self, request, obj: Endpoint, form: EndpointAdminForm, change: bool) -> None:
        if change:
            _endpoint_update_from(form, obj)
            return
        _adopt(obj, _endpoint_add_from(form, form.cleaned_data["entry"]))

    def delete_model(self, request, obj: Endpoint) -> None:
        endpoint_remove(endpoint=obj)

    def delete_queryset(self, request, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            endpoint_remove(endpoint=endpoint)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Side effects not yet handed to the broker (read-only): rows pile up here while the
    broker is down and are published and deleted by ``directory.outbox_relay``."""

    list_display = ("task", "args", "created_at", "attempts", "last_error")
    list_filter = ("task",)
    ordering = ("created_at", "pk")
    list_per_page = 100
    show_full_result_count = False  # a count of a large backlog is a full scan

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
