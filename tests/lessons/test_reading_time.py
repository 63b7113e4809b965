"""Reading time (lessons.services.reading_seconds / reading_minutes): Chinese characters at
NETBRANCH_READING_CJK_PER_MINUTE, Latin words at NETBRANCH_READING_WORDS_PER_MINUTE, a fixed
time per picture, plus the video; markup never counts; at least one minute."""

import pytest

from lessons.services import reading_minutes, reading_seconds
from tests.lessons.conftest import chinese, english

IMG = '<img src="/media/lessons/a.jpg" alt="党旗" width="640" height="480">'


@pytest.mark.parametrize(
    ("body", "seconds", "minutes"),
    [
        (f"<p>{chinese(600)}</p>", 120, 2),  # 300 characters a minute
        (f"<p>{chinese(300)}</p>", 60, 1),
        (f"<p>{chinese(301)}</p>", 61, 2),  # rounded up
        (f"<p>{chinese(30)}</p>", 6, 1),  # at least one minute
        (f"<p>{english(400)}</p>", 120, 2),  # 200 words a minute
        (f"<p>{english(200)}</p>", 60, 1),
        (f"<p>{chinese(300)}</p><p>{english(200)}</p>", 120, 2),  # mixed: both count
        (f"<p>{chinese(150)}{english(100)}{chinese(150)}</p>", 90, 2),  # no spaces between
        ("".join(IMG for _ in range(5)), 60, 1),  # 12 s a picture
        ("".join(IMG for _ in range(6)), 72, 2),
        (f"<p>{chinese(300)}</p>{IMG}", 72, 2),
        ("", 0, 1),
        ("<p></p><p><br></p>", 0, 1),
    ],
)
def test_reading_time(body, seconds, minutes):
    assert reading_seconds(body) == seconds
    assert reading_minutes(body) == minutes


def test_chinese_characters_are_counted_one_by_one_and_words_as_words():
    assert (
        reading_seconds("学习强国，学而时习之。") == 2
    )  # 9 characters (punctuation is none) -> 1.8 s
    assert reading_seconds("学习" * 150) == 60
    # Contractions, hyphenated words and numbers are one word each; punctuation is none.
    assert reading_seconds("don't co-operate 2025 — , . ! ?" * 50) == 45  # 150 words
    # Numbers inside Chinese text are words: "2025年" is one word and one character.
    assert reading_seconds("2025年" * 100) == 20 + 30


def test_video_length_is_added():
    assert reading_minutes("", video_minutes=15) == 15
    assert reading_minutes(f"<p>{chinese(300)}</p>", video_minutes=15) == 16
    assert reading_seconds(IMG, video_minutes=1) == 72
    assert reading_minutes("", video_minutes=None) == 1
    assert reading_minutes("", video_minutes=0) == 1


def test_markup_and_entities_are_not_words():
    words = english(400).split()
    # Each word wrapped in tags with long attributes: only the 400 words count.
    wrapped = "".join(
        f'<p><strong><a href="https://www.12371.cn/a/very/long/path?x=one+two+three">{w}</a>'
        f"</strong></p>"
        for w in words
    )
    assert reading_seconds(wrapped) == 120
    # Entities are characters, not words: spaces and punctuation add nothing...
    assert reading_seconds("<p>" + "&nbsp;&amp;&lt;&gt;&quot;&#160;&mdash;" * 300 + "</p>") == 0
    # ...and an encoded Chinese character is one character.
    assert reading_seconds("&#20826;&#21592;" * 150) == 60  # 党员
    # Comments are not read.
    assert reading_seconds("<!-- " + english(400) + " -->") == 0


def test_block_tags_separate_words():
    # <p>one</p><p>two</p> is two words, not "onetwo".
    assert reading_seconds("".join(f"<p>{w}</p>" for w in english(200).split())) == 60
    assert reading_seconds("<li>one</li><li>two</li>" * 100) == 60
    assert reading_seconds("one<br>two " * 100) == 60


def test_settings_change_the_speeds(settings):
    settings.NETBRANCH_READING_CJK_PER_MINUTE = 600
    assert reading_minutes(chinese(600)) == 1
    settings.NETBRANCH_READING_WORDS_PER_MINUTE = 100
    assert reading_minutes(english(400)) == 4
    settings.NETBRANCH_READING_SECONDS_PER_IMAGE = 60
    assert reading_minutes(IMG * 3) == 3
    assert reading_seconds(f"{chinese(600)} {english(100)} {IMG}") == 60 + 60 + 60
