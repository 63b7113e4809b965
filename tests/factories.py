"""factory_boy factories that build consistent trees: a member's branch sits under the
committee the reviewer is assigned to."""

import datetime

import factory
from django.contrib.auth import get_user_model

from branches.models import Organization, ProjectSite, RoleAssignment
from members.models import Member, Participation

DEMO_PASSWORD = "netbranch-demo"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    """Pass `parent=` to create a child; without it, a root."""

    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"第{n}党支部")
    kind = Organization.Kind.BRANCH
    parent = None

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        if parent is None:
            return model_class.objects.add_root(kwargs)
        parent.refresh_from_db(fields=["path", "depth", "numchild"])
        return model_class.objects.add_child(parent, kwargs)


class ProjectSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectSite

    name = factory.Sequence(lambda n: f"项目部{n}")
    province = "四川"
    coverage = ProjectSite.Coverage.GOOD
    organization = factory.SubFactory(OrganizationFactory)
    opened_on = datetime.date(2025, 3, 1)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    real_name = factory.Sequence(lambda n: f"党员{n}")
    branch = factory.SubFactory(OrganizationFactory)
    status = Member.Status.FULL
    category = Member.Category.OFFICE


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participation

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.JOINT_BRANCH)
    started_on = datetime.date(2025, 1, 1)


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    """Creates the row directly; use branches.services.role_assign in tests of the service.
    Staff status is set as the service would."""

    class Meta:
        model = RoleAssignment
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = RoleAssignment.Role.SECRETARY

    @factory.post_generation
    def _staff(obj, create, extracted, **kwargs):
        if create and not obj.user.is_staff:
            obj.user.is_staff = True
            obj.user.save(update_fields=["is_staff"])
