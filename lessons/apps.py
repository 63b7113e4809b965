from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LessonsConfig(AppConfig):
    name = "lessons"
    verbose_name = _("Study")

    def ready(self) -> None:
        from branches import roles, timeline
        from discussions.registry import register_commentable
        from notifications import audiences, kinds

        from . import selectors
        from .models import Lesson

        kinds.register("lesson_published", _("New lesson: %(subject)s"))
        kinds.register("lesson_shared", _("A lesson shared with you: %(subject)s"))
        kinds.register("lesson_reminder", _("Please study: %(subject)s"))
        kinds.register("plan_published", _("New study plan: %(subject)s"))
        kinds.register("plan_due_soon", _("Study plan due soon: %(subject)s"))
        timeline.register("lesson_published", _("Lesson: %(title)s"))
        timeline.register("plan_published", _("Study plan: %(title)s"))
        audiences.register("lessons.lesson_audience", selectors.audience_of_lesson)
        audiences.register("lessons.share_audience", selectors.audience_of_share)
        audiences.register("lessons.lesson_unfinished", selectors.audience_lesson_unfinished)
        audiences.register("lessons.plan_audience", selectors.audience_of_plan)
        audiences.register("lessons.plan_unfinished", selectors.audience_plan_unfinished)
        register_commentable(
            Lesson,
            can_view=lambda user, lesson: selectors.lesson_visible_to(user, lesson),
            organization_of=lambda lesson: lesson.organization,
        )
        editors = (
            roles.Role.SECRETARY,
            roles.Role.DEPUTY_SECRETARY,
            roles.Role.COMMITTEE_MEMBER,
            roles.Role.REVIEWER,
        )
        for model in (
            "lesson",
            "question",
            "document",
            "studyplan",
            "studyplanitem",
            "topic",
            "lessonattachment",
        ):
            roles.grant(editors, roles.crud("lessons", model, ("view", "add", "change")))
        roles.grant((roles.Role.SECRETARY, roles.Role.DEPUTY_SECRETARY, roles.Role.REVIEWER),
                    roles.crud("lessons", "question", ("delete",)) + roles.crud("lessons", "studyplanitem", ("delete",))
                    + roles.crud("lessons", "lessonattachment", ("delete",)))  # fmt: skip
        roles.grant(roles.ALL_ROLES, roles.crud("lessons", "studyrecord", ("view",)))
