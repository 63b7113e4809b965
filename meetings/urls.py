from .views import cadence, calendar, minutes, packs, pages, reflections

app_name = "meetings"

urlpatterns = [
    *cadence.urlpatterns,
    *pages.urlpatterns,
    *minutes.urlpatterns,
    *reflections.urlpatterns,
    *calendar.urlpatterns,
    *packs.urlpatterns,
]
