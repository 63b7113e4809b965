from branches.models import Organization


def test_tree_fixture(tree):
    assert Organization.objects.get_parent(tree.branch).pk == tree.company.pk
    assert tree.secretary.is_staff
