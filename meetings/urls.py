from .views import calendar, minutes, pages, reflections

app_name = "meetings"

urlpatterns = [
    *pages.urlpatterns,
    *minutes.urlpatterns,
    *reflections.urlpatterns,
    *calendar.urlpatterns,
]
