"""calendar"""

urlpatterns: list = []
