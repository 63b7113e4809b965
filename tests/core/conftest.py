import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(settings):
    """The upload messages are asserted in English (their Chinese is in the catalogue and
    checked by tests/test_i18n.py); requests without a language fall back to English here."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
