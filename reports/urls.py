"""URLs of the committee review. Each views module ends with its `urlpatterns`; they are
joined here (included at the site's root: the paths carry their own prefixes)."""

from .views import rating, reports, review

app_name = "reports"

urlpatterns = [
    *reports.urlpatterns,
    *review.urlpatterns,
    *rating.urlpatterns,
]
