"""The service sync in the secretaries' admin: welfare activities (photos, participants and
their hours, sign-ups, features; "Save and publish", "Save and record as done"), the totals per
organisation and period (with an Excel export), and pairing help cases (follow-up visits
read-only, the handover screen, closing, an export).

Every class extends the scoped base class; writes go through `welfare.services`, whose checks
also run while the form is validated, so that a refusal is a form error and nothing is saved.
A case's beneficiary is shown as `welfare.privacy` decides; a handed-over or closed case is
read-only."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches import scope
from branches.admin_scope import PublishButtonMixin, ScopedModelAdmin
from core.exports import xlsx_response
from lessons.forms import add_service_error
from members.selectors import members_of_organizations

from . import privacy, selectors, services
from .exports import activities_sheet, cases_sheet
from .forms import CloseForm, FeatureForm, HandoverForm, PeriodForm
from .models import (
    FollowUp,
    PairingCase,
    WelfareActivity,
    WelfareFeature,
    WelfareParticipant,
    WelfarePhoto,
    WelfareSignUp,
)
from .services.activities import _check as check_activity


def _service_data(form, names, *, changed_only: bool) -> dict:
    return {
        name: form.cleaned_data[name]
        for name in names
        if name in form.cleaned_data and (not changed_only or name in form.changed_data)
    }


def _messages_of(exc: Exception) -> str:
    return "; ".join(getattr(exc, "messages", None) or [str(exc)])


# --------------------------------------------------------------------------------------------
# Activities
# --------------------------------------------------------------------------------------------


class ActivityAdminForm(forms.ModelForm):
    class Meta:
        model = WelfareActivity
        fields = [
            "organization", "kind", "title", "description", "meeting", "held_on", "place",
            "project_site", "places", "money_yuan", "goods", "goods_value_yuan", "beneficiaries",
        ]  # fmt: skip

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.instance.organization_id is None:
            return
        try:
            check_activity(self.instance)  # the service's own checks, as form errors
        except ValidationError as exc:
            self._update_errors(exc)


class WelfarePhotoInline(admin.TabularInline):
    model = WelfarePhoto
    extra = 1
    fields = ["image", "caption", "cleared", "order"]


class ParticipantFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        organization = getattr(self.instance, "organization", None)
        if organization is None:
            return
        chosen = {
            f.cleaned_data["member"].pk: f.cleaned_data["member"]
            for f in self.forms
            if getattr(f, "cleaned_data", None)
            and f.cleaned_data.get("member")
            and not f.cleaned_data.get("DELETE")
        }
        allowed = set(
            members_of_organizations(organizations=[organization])
            .filter(pk__in=list(chosen))
            .values_list("pk", flat=True)
        )
        outsiders = [str(m) for pk, m in chosen.items() if pk not in allowed]
        if outsiders:
            raise ValidationError(
                _("Not members of %(org)s: %(names)s.")
                % {"org": organization, "names": "、".join(outsiders)}
            )


class ParticipantInline(admin.TabularInline):
    model = WelfareParticipant
    formset = ParticipantFormSet
    extra = 0
    fields = ["member", "hours"]
    autocomplete_fields = ["member"]
    verbose_name_plural = _("participants and their hours")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")


class SignUpInline(admin.TabularInline):
    model = WelfareSignUp
    extra = 0
    can_delete = False
    fields = ["member", "signed_up_at"]
    readonly_fields = fields
    verbose_name_plural = _("signed up")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")


class FeatureInline(admin.TabularInline):
    model = WelfareFeature
    extra = 0
    fields = ["organization", "featured_by", "featured_at"]
    readonly_fields = fields
    verbose_name_plural = _("featured to")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return scope.has_role(request.user, scope.REVIEW_ROLES)


@admin.register(WelfareActivity)
class WelfareActivityAdmin(PublishButtonMixin, ScopedModelAdmin):
    form = ActivityAdminForm
    list_display = [
        "title", "kind", "organization", "held_on", "status", "places_taken", "participant_count",
        "hours", "money_yuan", "beneficiaries", "is_published",
    ]  # fmt: skip
    list_filter = ["status", "kind", "organization"]
    search_fields = ["title", "place"]
    date_hierarchy = "held_on"
    autocomplete_fields = ["organization", "project_site", "meeting"]
    list_select_related = ["organization"]
    inlines = [WelfarePhotoInline, ParticipantInline, SignUpInline, FeatureInline]
    actions = ["publish", "record_done", "feature", "export"]
    readonly_fields = ["status", "signed_up", "published_at", "done_at", "recorded_by"]
    fieldsets = [
        (None, {"fields": ["organization", "kind", "title", "description", "meeting"]}),
        (_("When and where"), {"fields": ["held_on", "place", "project_site", "places"]}),
        (
            _("What was done"),
            {
                "fields": ["money_yuan", "goods", "goods_value_yuan", "beneficiaries"],
                "description": _(
                    "Fill in after the activity, with the participants and their hours below, "
                    'then press "Save and record as done": it goes on the branch timeline.'
                ),
            },
        ),
        (
            _("Status"),
            {"fields": ["status", "signed_up", "published_at", "done_at", "recorded_by"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_participants=Count("participants"), n_hours=Sum("participants__hours"))
        )

    @admin.display(description=_("signed up"), ordering="signed_up")
    def places_taken(self, obj):
        return f"{obj.signed_up}/{obj.places}" if obj.places is not None else obj.signed_up

    @admin.display(description=_("participants"), ordering="n_participants")
    def participant_count(self, obj):
        return obj.n_participants

    @admin.display(description=_("hours"), ordering="n_hours")
    def hours(self, obj):
        return obj.n_hours or 0

    @admin.display(description=_("published"), boolean=True, ordering="published_at")
    def is_published(self, obj):
        return obj.published_at is not None

    # -- saving through the services -------------------------------------------------------
    def save_model(self, request, obj, form, change):
        names = (*services.ACTIVITY_FIELDS, *services.OUTCOME_FIELDS)
        data = _service_data(form, names, changed_only=change)
        try:
            if change:
                stored = services.activity_update(activity=obj, by=request.user, fields=data)
            else:
                stored = services.activity_create(by=request.user, **data)
        except ValidationError as exc:
            raise PermissionDenied(_messages_of(exc)) from exc
        obj.__dict__.update(stored.__dict__)

    def save_formset(self, request, form, formset, change):
        if formset.model is WelfareParticipant:
            rows = [
                (f.cleaned_data["member"], f.cleaned_data.get("hours") or 0)
                for f in formset.forms
                if getattr(f, "cleaned_data", None)
                and f.cleaned_data.get("member")
                and not f.cleaned_data.get("DELETE")
            ]
            try:
                services.activity_set_participants(
                    activity=form.instance, by=request.user, rows=rows
                )
            except ValidationError as exc:
                messages.error(request, _messages_of(exc))
            # What the admin's change message reads (the service did the writing).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        if formset.model is WelfareFeature:
            # Taken back through the service: by a reviewer of where the feature shows only.
            removed = []
            for feature_form in formset.deleted_forms:
                feature = feature_form.instance
                if feature.pk is None:
                    continue
                try:
                    services.activity_unfeature(feature=feature, by=request.user)
                except PermissionDenied as exc:
                    messages.error(request, f"{feature}: {_messages_of(exc)}")
                    continue
                removed.append(feature)
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], removed
            return
        super().save_formset(request, form, formset, change)

    def response_add(self, request, obj, post_url_continue=None):
        self._record_button(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._record_button(request, obj)
        return super().response_change(request, obj)

    def _record_button(self, request, obj) -> None:
        if "_done" in request.POST:
            self._record_done(request, [obj])

    def _publish(self, request, activities) -> int:
        published = 0
        for activity in activities:
            if activity.is_published:
                continue
            services.activity_publish(activity=activity, by=request.user)
            published += 1
        if published:
            messages.success(
                request,
                ngettext(
                    "%(n)d activity published; its members are told if it is still to come.",
                    "%(n)d activities published; their members are told of those still to come.",
                    published,
                )
                % {"n": published},
            )
        return published

    def _record_done(self, request, activities) -> int:
        done = 0
        for activity in activities:
            try:
                services.activity_record_done(activity=activity, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"{activity}: {_messages_of(exc)}")
                continue
            done += 1
        if done:
            messages.success(
                request,
                ngettext(
                    "%(n)d activity recorded as done; it is on the branch timeline.",
                    "%(n)d activities recorded as done; they are on the branch timelines.",
                    done,
                )
                % {"n": done},
            )
        return done

    # -- actions -----------------------------------------------------------------------------
    @admin.action(description=_("Publish the selected activities"), permissions=["change"])
    def publish(self, request, queryset):
        if not self._publish(request, queryset.select_related("organization")):
            messages.info(request, _("Nothing to publish: the selected activities are published already."))  # fmt: skip

    @admin.action(description=_("Record the selected activities as done"), permissions=["change"])
    def record_done(self, request, queryset):
        self._record_done(
            request, queryset.filter(status=WelfareActivity.Status.PLANNED).select_related("organization")
        )  # fmt: skip

    @admin.action(description=_("Feature to a wider organisation…"), permissions=["feature"])
    def feature(self, request, queryset):
        activities = list(queryset.select_related("organization"))
        form = FeatureForm(request.POST if "apply" in request.POST else None, user=request.user)
        if form.is_valid():
            organization = form.cleaned_data["organization"]
            featured = 0
            for activity in activities:
                try:
                    services.activity_feature(
                        activity=activity, organization=organization, by=request.user
                    )
                except (ValidationError, PermissionDenied) as exc:
                    messages.warning(request, f"{activity}: {_messages_of(exc)}")
                    continue
                featured += 1
            if featured:
                messages.success(
                    request,
                    ngettext(
                        "%(n)d activity featured to %(org)s.",
                        "%(n)d activities featured to %(org)s.",
                        featured,
                    )
                    % {"n": featured, "org": organization},
                )
            return HttpResponseRedirect(request.get_full_path())
        return TemplateResponse(
            request,
            "admin/welfare/welfareactivity/feature.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Feature activities"),
                "objects": activities,
                "action": "feature",
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def has_feature_permission(self, request):
        return scope.has_role(request.user, scope.REVIEW_ROLES)

    @admin.action(description=_("Export the selected activities (Excel)"), permissions=["view"])
    def export(self, request, queryset):
        headers, rows = activities_sheet(
            queryset.select_related("organization")
            .annotate(participant_count=Count("participants"), hours=Sum("participants__hours"))
            .order_by("-held_on", "-pk")
        )
        return xlsx_response(
            filename="welfare-activities.xlsx", headers=headers, rows=rows, sheet_title="Activities"
        )

    # -- totals per organisation and period -------------------------------------------------
    def get_urls(self):
        urls = [
            path(
                "totals/",
                self.admin_site.admin_view(self.totals_view),
                name="welfare_welfareactivity_totals",
            )
        ]
        return urls + super().get_urls()

    def totals_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        form = PeriodForm(request.GET if "year" in request.GET else {"year": today.year})
        if not form.is_valid():
            form = PeriodForm({"year": today.year})
            form.is_valid()
        start, end = form.bounds()
        totals = selectors.welfare_totals(
            organizations=scope.managed_organizations(request.user), start=start, end=end
        )
        if request.GET.get("format") == "xlsx":
            headers, rows = selectors.totals_sheet(totals)
            return xlsx_response(
                filename=f"welfare-totals-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
                headers=headers,
                rows=rows,
                sheet_title=f"{start:%Y-%m-%d}..{end:%Y-%m-%d}",
            )
        query = request.GET.copy()
        query["format"] = "xlsx"
        return TemplateResponse(
            request,
            "admin/welfare/welfareactivity/totals.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Welfare totals per organisation"),
                "form": form,
                "totals": totals,
                "export_query": query.urlencode() if "year" in query else f"year={today.year}&format=xlsx",
            },
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Pairing help cases
# --------------------------------------------------------------------------------------------


class FollowUpInline(admin.TabularInline):
    """Visits are recorded on the case page (by the paired members too); here, read-only."""

    model = FollowUp
    extra = 0
    can_delete = False
    fields = ["visited_on", "notes", "by", "photo_count"]
    readonly_fields = fields
    verbose_name_plural = _("follow-up visits (recorded on the case page)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by").annotate(n_photos=Count("photos"))

    @admin.display(description=_("photos"))
    def photo_count(self, obj):
        return obj.n_photos


@admin.register(PairingCase)
class PairingCaseAdmin(ScopedModelAdmin):
    #: The first column, the beneficiary as `welfare.privacy` lets the user see them, is added
    #: per request (`get_list_display`).
    list_display = ["organization", "help_kind", "status", "started_on", "last_follow_up_on", "overdue"]  # fmt: skip
    list_filter = ["status", "help_kind", "beneficiary_kind", "organization"]
    #: By name too, among the cases whose personal data the user reads (`get_search_results`).
    search_fields = ["village"]
    date_hierarchy = "started_on"
    autocomplete_fields = ["organization", "project_site", "paired_members"]
    #: Left out of the form and the inlines for a manager above the branch (not a reviewer),
    #: who sees the public label only (`welfare.privacy`).
    personal_fields = (
        "name", "surname", "address", "phone", "household_size", "situation", "plan",
        "handover_contact", "handover_document_link", "handover_note", "closed_reason",
    )  # fmt: skip
    list_select_related = ["organization"]
    inlines = [FollowUpInline]
    actions = ["close", "export"]
    readonly_fields = [
        "status", "last_follow_up_on", "handed_over_on", "handover_to_kind", "handover_to",
        "handover_contact", "handover_document_link", "handover_note", "closed_on", "closed_reason",
    ]  # fmt: skip
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "organization",
                    "project_site",
                    "beneficiary_kind",
                    "help_kind",
                    "village",
                ]
            },
        ),
        (
            _("Personal data"),
            {
                "fields": ["name", "surname", "address", "phone", "household_size", "situation"],
                "description": _(
                    "Only what the help needs. Seen by the paired members, the branch committee "
                    "and the reviewers; other members see 'a household in <village>' or the "
                    "surname with 某."
                ),
            },
        ),
        (_("Help"), {"fields": ["plan", "paired_members", "started_on"]}),
        (
            _("Status"),
            {
                "fields": [
                    "status",
                    "last_follow_up_on",
                    "handed_over_on",
                    "handover_to_kind",
                    "handover_to",
                    "handover_contact",
                    "handover_document_link",
                    "handover_note",
                    "closed_on",
                    "closed_reason",
                ]
            },
        ),
    ]

    def get_list_display(self, request):
        user = request.user

        @admin.display(description=_("beneficiary"))
        def beneficiary(obj):
            return privacy.beneficiary_label(obj, personal=privacy.personal_data_allowed(user, obj))

        return [beneficiary, *self.list_display]

    def get_queryset(self, request):
        # `is_paired` for the privacy decision of each row, without a query per row.
        return selectors.with_is_paired(super().get_queryset(request), user=request.user)

    def _personal(self, request, obj) -> bool:
        return obj is None or privacy.personal_data_allowed(request.user, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self._personal(request, obj):
            return fieldsets
        out = []
        for title, options in fieldsets:
            fields = [f for f in options["fields"] if f not in self.personal_fields]
            if fields:
                out.append((title, {**options, "fields": fields}))
        return out

    def get_inlines(self, request, obj):
        return super().get_inlines(request, obj) if self._personal(request, obj) else []

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            by_name = queryset.filter(privacy.personal_q(request.user), name__icontains=term)
            found = found | by_name
        return found, may_have_duplicates

    @admin.display(description=_("waits for a visit"), boolean=True)
    def overdue(self, obj):
        return selectors.is_overdue(obj)

    @admin.display(description=_("signed handover document"))
    def handover_document_link(self, obj):
        if not obj.handover_document:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("welfare:handover_document", args=[obj.pk]),
            _("Download"),
        )

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != PairingCase.Status.OPEN:
            return False  # handed-over and closed cases are kept as they were
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = _service_data(form, (*services.CASE_FIELDS, "paired_members"), changed_only=change)
        try:
            if change:
                stored = services.case_update(case=obj, by=request.user, fields=data)
            else:
                paired = data.pop("paired_members", [])
                stored = services.case_create(by=request.user, paired_members=paired, **data)
        except ValidationError as exc:
            raise PermissionDenied(_messages_of(exc)) from exc
        obj.__dict__.update(stored.__dict__)

    def save_related(self, request, form, formsets, change):
        # The paired members were set by the service; the visits inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # -- handover ----------------------------------------------------------------------------
    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/handover/",
                self.admin_site.admin_view(self.handover_view),
                name="welfare_pairingcase_handover",
            )
        ]
        return urls + super().get_urls()

    def handover_view(self, request, object_id):
        case = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        form = HandoverForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.case_hand_over(
                    case=case,
                    by=request.user,
                    to_kind=data["to_kind"],
                    to=data["to"],
                    contact=data["contact"],
                    on=data["on"],
                    document=data["document"],
                    note=data["note"],
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(
                    request,
                    _("The case is handed over: it stays readable and no longer reminds anyone."),
                )
                return HttpResponseRedirect(
                    reverse("admin:welfare_pairingcase_change", args=[case.pk])
                )
        return TemplateResponse(
            request,
            "admin/welfare/pairingcase/handover.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Hand over %(case)s") % {"case": case},
                "original": case,
                "form": form,
            },
        )

    # -- actions -----------------------------------------------------------------------------
    @admin.action(description=_("Close the selected cases…"), permissions=["change"])
    def close(self, request, queryset):
        cases = list(queryset.filter(status=PairingCase.Status.OPEN).select_related("organization"))
        if not cases:
            messages.info(request, _("Only open cases can be closed."))
            return None
        form = CloseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            closed = 0
            for case in cases:
                try:
                    services.case_close(
                        case=case,
                        by=request.user,
                        on=form.cleaned_data["on"],
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as exc:
                    messages.warning(request, f"{case}: {_messages_of(exc)}")
                    continue
                closed += 1
            if closed:
                messages.success(
                    request,
                    ngettext("%(n)d case closed.", "%(n)d cases closed.", closed) % {"n": closed},
                )
            return None
        return TemplateResponse(
            request,
            "admin/welfare/pairingcase/close.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Close pairing help cases"),
                "objects": cases,
                "action": "close",
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Export the selected cases (Excel)"), permissions=["view"])
    def export(self, request, queryset):
        cases = selectors.case_list_for_user(user=request.user).filter(pk__in=queryset.values("pk"))
        headers, rows = cases_sheet(cases, user=request.user, wider=False)
        return xlsx_response(
            filename="pairing-cases.xlsx", headers=headers, rows=rows, sheet_title="Cases"
        )
