"""Pages of the activity sync, one module per part; each module lists its own `urlpatterns`,
which `meetings/urls.py` joins."""
