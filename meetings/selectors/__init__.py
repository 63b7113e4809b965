"""Reads of the activity sync, one module per part: `attendees` (who is expected), `pages`
(the member pages and the home card), `minutes` (the ledger), `reflections`, `cadence` and
`calendar`. Who is expected is re-exported here."""

from .attendees import audience_meeting_attendees, expected_attendees, is_expected

__all__ = ["audience_meeting_attendees", "expected_attendees", "is_expected"]
