"""The study sync in the secretaries' admin: lessons (with their check questions and
attachments), the document library, study plans, topics, and study records (read-only).

Every class extends the scoped base class; writes go through `lessons.services`, whose checks
(reading time, the micro-lesson limit, video links) also run while the form is validated, so
that a refusal is a form error and nothing is saved."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches import scope
from branches.admin_scope import PublishButtonMixin, ScopedModelAdmin
from branches.models import Organization

from . import selectors, services
from .forms import LessonAdminForm, PlanItemFormSet
from .models import (
    Document,
    DocumentRead,
    Lesson,
    LessonAttachment,
    Question,
    StudyPlan,
    StudyPlanItem,
    StudyRecord,
    Topic,
)

NAMES_LIMIT = 200
AUDIENCE_FIELDS = [
    "for_office",
    "for_front_line",
    "for_remote",
    "for_full",
    "for_probationary",
    "committee_only",
]
AUDIENCE_FIELDSET = (
    _("Audience"),
    {
        "fields": AUDIENCE_FIELDS,
        "description": _(
            "Members of the publishing organisation and everything under it, in these "
            "categories and statuses."
        ),
    },
)


def _service_data(form, names, *, changed_only: bool) -> dict:
    """The form's values for a service: only what changed on a change page; a cleared file
    becomes an empty value."""
    data = {}
    for name in names:
        if name not in form.cleaned_data or (changed_only and name not in form.changed_data):
            continue
        value = form.cleaned_data[name]
        if value is False and isinstance(form.fields.get(name), forms.FileField):
            value = ""  # "clear" ticked
        data[name] = value
    return data


def _user_names(users) -> list[str]:
    return [getattr(getattr(u, "member", None), "real_name", "") or u.get_username() for u in users]


def _is_autocomplete_for(request, model_name: str) -> bool:
    return (
        request.resolver_match is not None
        and request.resolver_match.url_name == "autocomplete"
        and request.GET.get("app_label") == "lessons"
        and request.GET.get("model_name") == model_name
    )


def plan_item_lessons(user):
    """Lessons a plan may list: those of the organisations the user manages (drafts too, to
    prepare the plan) and the published ones they may study (the group's, a shared one)."""
    if user.is_active and user.is_superuser:
        return Lesson.objects.all()
    managed = scope.subtree_q(scope.managed_paths(user), prefix="organization__")
    visible = selectors.lessons_visible_to(user=user).values("pk")
    return Lesson.objects.filter(managed | Q(pk__in=visible))


def plan_item_documents(user):
    if user.is_active and user.is_superuser:
        return Document.objects.all()
    managed = scope.subtree_q(scope.managed_paths(user), prefix="organization__")
    visible = selectors.documents_visible_to(user=user).values("pk")
    return Document.objects.filter(managed | Q(pk__in=visible))


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------


@admin.register(Topic)
class TopicAdmin(ScopedModelAdmin):
    """Topics are shared by the whole tree: anyone who edits lessons may add one."""

    list_display = ["name", "lesson_count"]
    search_fields = ["name"]

    def scope_queryset(self, request, queryset):
        return queryset

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_lessons=Count("lessons"))

    @admin.display(description=_("lessons"), ordering="n_lessons")
    def lesson_count(self, obj):
        return obj.n_lessons


# --------------------------------------------------------------------------------------------
# Lessons
# --------------------------------------------------------------------------------------------


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 1
    max_num = 3
    validate_max = True
    fields = [
        "order",
        "text",
        ("choice_a", "choice_b"),
        ("choice_c", "choice_d"),
        "correct",
        "explanation",
    ]
    verbose_name = _("check question")
    verbose_name_plural = _("check (1 to 3 multiple-choice questions; optional)")

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("validate_max", True)  # a 4th question is an error, not ignored
        return super().get_formset(request, obj, **kwargs)


class LessonAttachmentInline(admin.TabularInline):
    model = LessonAttachment
    extra = 0
    fields = ["title", "file"]


class ShareForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("share with"),
        queryset=Organization.objects.none(),
        help_text=_(
            "Its members and everyone under it can then study the lesson; those who could not "
            "see it before are notified. The lesson keeps its author and branch."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            scope.reviewed_organizations(user)
            .filter(kind__in=[Organization.Kind.COMMITTEE, Organization.Kind.GENERAL_BRANCH])
            .order_by("path")
        )


@admin.register(Lesson)
class LessonAdmin(ScopedModelAdmin):
    form = LessonAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "title",
        "kind",
        "organization",
        "status",
        "reading_minutes",
        "published_at",
        "publish_at",
    ]
    list_filter = ["status", "kind", "topics", "organization", "committee_only"]
    search_fields = ["title", "summary"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["organization", "topics"]
    list_select_related = ["organization"]
    inlines = [QuestionInline, LessonAttachmentInline]
    actions = ["publish", "archive", "remind_unfinished", "share"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "organization",
                    "kind",
                    "title",
                    "summary",
                    "body",
                    "topics",
                    "speaker",
                    "reading_minutes",
                ]
            },
        ),
        (
            _("Pictures and video"),
            {
                "fields": ["cover", "video_file", "video_url", "video_minutes"],
                "description": _(
                    "A video lesson needs an uploaded video or a link to an allowed site, and "
                    "its length: it counts in the reading time."
                ),
            },
        ),
        AUDIENCE_FIELDSET,
        (
            _("Publishing"),
            {
                "fields": ["status", "publish_at", "published_at"],
                "description": _(
                    'To publish later, choose the time and press "Save and schedule": the '
                    "lesson then publishes itself and its members are notified once."
                ),
            },
        ),
    ]

    # -- form ----------------------------------------------------------------------------------
    def get_readonly_fields(self, request, obj=None):
        fields = ["reading_minutes", "status", "published_at"]
        if obj is not None and obj.status in (Lesson.Status.PUBLISHED, Lesson.Status.ARCHIVED):
            fields.append("publish_at")
        if obj is not None and obj.is_published:
            fields.append("study_stats")
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.is_published:
            fieldsets.append((_("Who has studied it"), {"fields": ["study_stats"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.wants_publish = "_publish" in request.POST
        form.wants_schedule = "_schedule" in request.POST
        return form

    def save_model(self, request, obj, form, change):
        data = _service_data(form, (*services.LESSON_FIELDS, "topics"), changed_only=change)
        try:
            if change:
                stored = services.lesson_update(lesson=obj, by=request.user, fields=data)
            else:
                stored = services.lesson_create(by=request.user, **data)
        except ValidationError as exc:
            # The form ran the same checks; this is a change made meanwhile by someone else.
            raise PermissionDenied("; ".join(exc.messages)) from exc
        publish_at = form.cleaned_data.get("publish_at")
        obj.__dict__.update(stored.__dict__)
        obj.publish_at = publish_at if "publish_at" in form.cleaned_data else stored.publish_at
        if (
            change
            and not form.wants_schedule
            and stored.status == Lesson.Status.SCHEDULED
            and publish_at
            and "publish_at" in form.changed_data
        ):
            self._schedule(request, obj, publish_at)

    def save_related(self, request, form, formsets, change):
        # Topics were set by the service; only the inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def response_add(self, request, obj, post_url_continue=None):
        self._after_save_buttons(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._after_save_buttons(request, obj)
        return super().response_change(request, obj)

    def _after_save_buttons(self, request, obj) -> None:
        if "_publish" in request.POST:
            self._publish(request, [obj])
        elif "_schedule" in request.POST and obj.publish_at:
            self._schedule(request, obj, obj.publish_at)

    def _schedule(self, request, lesson, publish_at) -> None:
        try:
            services.lesson_schedule(lesson=lesson, by=request.user, publish_at=publish_at)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return
        lesson.status, lesson.publish_at = Lesson.Status.SCHEDULED, publish_at
        messages.success(
            request,
            _("%(lesson)s will publish itself at %(at)s.")
            % {"lesson": lesson, "at": _local(publish_at)},
        )

    def _publish(self, request, lessons) -> int:
        published = 0
        for lesson in lessons:
            if lesson.is_published:
                continue
            services.lesson_publish(lesson=lesson, by=request.user)
            published += 1
        if published:
            messages.success(
                request,
                ngettext(
                    "%(n)d lesson published; its members are being notified.",
                    "%(n)d lessons published; their members are being notified.",
                    published,
                )
                % {"n": published},
            )
        return published

    # -- the "who has studied it" block ---------------------------------------------------------
    @admin.display(description=_("study progress"))
    def study_stats(self, obj):
        return render_to_string("admin/lessons/study_stats.html", lesson_study_stats(obj.pk))

    # -- actions -------------------------------------------------------------------------------
    @admin.action(
        description=_("Publish the selected lessons and notify their members"),
        permissions=["change"],
    )
    def publish(self, request, queryset):
        if not self._publish(request, queryset.select_related("organization")):
            messages.info(
                request,
                _("Nothing to publish: the selected lessons are published already."),
            )

    @admin.action(description=_("Archive the selected lessons"), permissions=["change"])
    def archive(self, request, queryset):
        archived = 0
        for lesson in queryset.select_related("organization"):
            if lesson.status != Lesson.Status.ARCHIVED:
                services.lesson_archive(lesson=lesson, by=request.user)
                archived += 1
        messages.success(
            request,
            ngettext("%(n)d lesson archived.", "%(n)d lessons archived.", archived)
            % {"n": archived},
        )

    @admin.action(
        description=_("Remind those who have not finished them (once a day)"),
        permissions=["change"],
    )
    def remind_unfinished(self, request, queryset):
        for lesson in queryset.select_related("organization"):
            try:
                count = services.lesson_remind_unfinished(lesson=lesson, by=request.user)
            except ValidationError as exc:
                messages.warning(request, f"{lesson}: {'; '.join(exc.messages)}")
                continue
            if count:
                messages.success(
                    request,
                    ngettext(
                        "%(lesson)s: %(n)d member reminded.",
                        "%(lesson)s: %(n)d members reminded.",
                        count,
                    )
                    % {"lesson": lesson, "n": count},
                )
            else:
                messages.info(
                    request,
                    _(
                        "%(lesson)s: everyone has finished it, or today's reminder has "
                        "already gone out."
                    )
                    % {"lesson": lesson},
                )

    @admin.action(description=_("Share with a wider organisation…"), permissions=["share"])
    def share(self, request, queryset):
        lessons = list(queryset.select_related("organization"))
        form = ShareForm(request.POST if "apply" in request.POST else None, user=request.user)
        if form.is_valid():
            organization = form.cleaned_data["organization"]
            shared = 0
            for lesson in lessons:
                try:
                    services.lesson_share(lesson=lesson, organization=organization, by=request.user)
                except (ValidationError, PermissionDenied) as exc:
                    text = "; ".join(getattr(exc, "messages", [str(exc)]))
                    messages.warning(request, f"{lesson}: {text}")
                    continue
                shared += 1
            if shared:
                messages.success(
                    request,
                    ngettext(
                        "%(n)d lesson shared with %(org)s; its new members are being notified.",
                        "%(n)d lessons shared with %(org)s; their new members are being notified.",
                        shared,
                    )
                    % {"n": shared, "org": organization},
                )
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Share lessons"),
            "opts": self.model._meta,
            "objects": lessons,
            "action": "share",
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/lessons/lesson/share.html", context)

    def has_share_permission(self, request):
        return scope.has_role(request.user, scope.REVIEW_ROLES)

    # -- autocomplete for plan items -------------------------------------------------------
    def get_search_results(self, request, queryset, search_term):
        if _is_autocomplete_for(request, "studyplanitem"):
            # A plan may list the group's published lessons too, not only the branch's own.
            queryset = plan_item_lessons(request.user)
        return super().get_search_results(request, queryset, search_term)


def _local(value):
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def lesson_study_stats(lesson_id: int, *, limit: int = NAMES_LIMIT) -> dict:
    """Who of a lesson's audience finished it, opened it, or has not yet: counts and the names
    of those who have not finished. A fixed number of queries whatever the audience size."""
    audience = selectors.audience_of_lesson(lesson=lesson_id)
    records = StudyRecord.objects.filter(lesson_id=lesson_id, user=OuterRef("pk"))
    counted = audience.annotate(
        has_record=Exists(records), has_finished=Exists(records.filter(finished_at__isnull=False))
    ).aggregate(
        total=Count("pk"),
        finished=Count("pk", filter=Q(has_finished=True)),
        opened=Count("pk", filter=Q(has_record=True, has_finished=False)),
    )
    unfinished = (
        audience.exclude(
            pk__in=StudyRecord.objects.filter(
                lesson_id=lesson_id, finished_at__isnull=False
            ).values("user_id")
        )
        .select_related("member")
        .order_by("member__real_name", "pk")[:limit]
    )
    total, finished, opened = counted["total"], counted["finished"], counted["opened"]
    return {
        "total": total,
        "finished": finished,
        "opened": opened,
        "not_yet": total - finished - opened,
        "unfinished": _user_names(unfinished),
        "unfinished_count": total - finished,
        "limit": limit,
    }


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


@admin.register(Document)
class DocumentAdmin(ScopedModelAdmin):
    list_display = ["title", "category", "organization", "issued_on", "published"]
    list_filter = ["category", "published", "organization"]
    search_fields = ["title", "summary", "issuer"]
    date_hierarchy = "issued_on"
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
    fieldsets = [
        (None, {"fields": ["organization", "category", "title", "summary", "issued_on", "issuer"]}),
        (
            _("Content"),
            {
                "fields": ["file", "body"],
                "description": _("A file (PDF, Word, Excel, PowerPoint), a text, or both."),
            },
        ),
        AUDIENCE_FIELDSET,
        (None, {"fields": ["published"]}),
    ]

    def save_model(self, request, obj, form, change):
        data = _service_data(form, services.DOCUMENT_FIELDS, changed_only=change)
        try:
            stored = services.document_save(
                document=obj if change else None, by=request.user, fields=data
            )
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update(stored.__dict__)

    def get_search_results(self, request, queryset, search_term):
        if _is_autocomplete_for(request, "studyplanitem"):
            queryset = plan_item_documents(request.user)
        return super().get_search_results(request, queryset, search_term)


# --------------------------------------------------------------------------------------------
# Study plans
# --------------------------------------------------------------------------------------------


class StudyPlanItemInline(admin.TabularInline):
    model = StudyPlanItem
    formset = PlanItemFormSet
    extra = 1
    fields = ["order", "lesson", "document"]
    autocomplete_fields = ["lesson", "document"]
    verbose_name_plural = _("items (each a lesson or a document, in order)")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Inlines are not ScopedModelAdmins: the choices are limited here, so that a posted id
        # outside what the user manages or may study is refused by the form.
        if db_field.name == "lesson":
            kwargs["queryset"] = plan_item_lessons(request.user)
        elif db_field.name == "document":
            kwargs["queryset"] = plan_item_documents(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.wants_publish = "_publish" in request.POST and not (
            obj is not None and obj.status == StudyPlan.Status.PUBLISHED
        )
        return formset


@admin.register(StudyPlan)
class StudyPlanAdmin(PublishButtonMixin, ScopedModelAdmin):
    list_display = ["title", "organization", "starts_on", "due_on", "status", "published_at"]
    list_filter = ["status", "organization"]
    search_fields = ["title", "description"]
    date_hierarchy = "starts_on"
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
    inlines = [StudyPlanItemInline]
    actions = ["publish"]
    fieldsets = [
        (None, {"fields": ["organization", "title", "description", "starts_on", "due_on"]}),
        AUDIENCE_FIELDSET,
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.status == StudyPlan.Status.PUBLISHED:
            fieldsets.append((_("Progress"), {"fields": ["progress"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ["progress"] if obj is not None and obj.status == StudyPlan.Status.PUBLISHED else []

    def save_model(self, request, obj, form, change):
        data = _service_data(form, services.PLAN_FIELDS, changed_only=change)
        try:
            stored = services.plan_save(plan=obj if change else None, by=request.user, fields=data)
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update(stored.__dict__)

    def _publish(self, request, plans) -> int:
        published = 0
        for plan in plans:
            if plan.status == StudyPlan.Status.PUBLISHED:
                continue
            try:
                services.plan_publish(plan=plan, by=request.user)
            except ValidationError as exc:
                messages.error(request, f"{plan}: {'; '.join(exc.messages)}")
                continue
            published += 1
        if published:
            messages.success(
                request,
                ngettext(
                    "%(n)d study plan published; its members are being notified.",
                    "%(n)d study plans published; their members are being notified.",
                    published,
                )
                % {"n": published},
            )
        return published

    @admin.action(
        description=_("Publish the selected plans and notify their members"),
        permissions=["change"],
    )
    def publish(self, request, queryset):
        if not self._publish(request, queryset.select_related("organization")):
            messages.info(request, _("No plan was published."))

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return render_to_string("admin/lessons/plan_progress.html", plan_progress(obj))


def plan_progress(plan: StudyPlan, *, limit: int = NAMES_LIMIT) -> dict:
    """How many of a plan's audience finished all its lessons, each item's count, and the names
    of those who have not finished. A fixed number of queries."""
    audience = selectors.audience_of_plan(plan=plan.pk)
    unfinished = selectors.audience_plan_unfinished(plan=plan.pk)
    items = list(plan.items.select_related("lesson", "document").order_by("order", "pk"))
    lesson_ids = [i.lesson_id for i in items if i.lesson_id]
    document_ids = [i.document_id for i in items if i.document_id]
    done = dict(
        StudyRecord.objects.filter(
            lesson_id__in=lesson_ids, finished_at__isnull=False, user__in=audience
        )
        .values("lesson_id")
        .annotate(n=Count("pk"))
        .values_list("lesson_id", "n")
    )
    read = dict(
        DocumentRead.objects.filter(document_id__in=document_ids, user__in=audience)
        .values("document_id")
        .annotate(n=Count("pk"))
        .values_list("document_id", "n")
    )
    total = audience.count()
    unfinished_count = unfinished.count()
    names = _user_names(
        unfinished.select_related("member").order_by("member__real_name", "pk")[:limit]
    )
    return {
        "total": total,
        "finished": total - unfinished_count,
        "unfinished_count": unfinished_count,
        "unfinished": names,
        "items": [
            (item, done.get(item.lesson_id, 0) if item.lesson_id else read.get(item.document_id, 0))
            for item in items
        ],
        "limit": limit,
    }


# --------------------------------------------------------------------------------------------
# Study records (read-only)
# --------------------------------------------------------------------------------------------


class FinishedFilter(admin.SimpleListFilter):
    title = _("finished")
    parameter_name = "finished"

    def lookups(self, request, model_admin):
        return [("yes", _("finished")), ("no", _("not finished"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(finished_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(finished_at__isnull=True)
        return queryset


@admin.register(StudyRecord)
class StudyRecordAdmin(ScopedModelAdmin):
    """Who studied which lesson of the organisations in scope. Written only by members
    studying: read-only here."""

    scope_field = "lesson__organization"
    list_display = [
        "member_name",
        "lesson",
        "started_at",
        "marked_at",
        "check_passed_at",
        "finished_at",
        "points",
    ]
    list_filter = [FinishedFilter, "lesson__kind"]
    search_fields = ["lesson__title", "user__member__real_name", "user__username"]
    list_select_related = ["user__member", "lesson"]
    date_hierarchy = "started_at"
    readonly_fields = [
        "user",
        "lesson",
        "started_at",
        "marked_at",
        "check_passed_at",
        "finished_at",
        "points",
    ]

    @admin.display(description=_("member"), ordering="user__member__real_name")
    def member_name(self, obj):
        return _user_names([obj.user])[0]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
