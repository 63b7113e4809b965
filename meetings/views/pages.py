"""pages"""

urlpatterns: list = []
