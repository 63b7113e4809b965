"""minutes"""

urlpatterns: list = []
