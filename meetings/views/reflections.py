"""reflections"""

urlpatterns: list = []
