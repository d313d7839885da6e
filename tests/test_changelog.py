"""CHANGELOG.md follows the README's release rule.

Unreleased changes on top, then one entry per release, newest first, headed
`## [YYYY.MM.PATCH] - YYYY-MM-DD`: the year and month of the release date, and
PATCH counting the month's releases from 0.
"""

import datetime
import re

from bakery import TEMPLATE_DIR

CHANGELOG = (TEMPLATE_DIR / "CHANGELOG.md").read_text()
RELEASE_HEADING = re.compile(r"\[(\d{4})\.(\d{2})\.(\d+)\] - (\d{4}-\d{2}-\d{2})")
# Keep a Changelog's kinds of change, and Breaking for what baked projects must act on.
KINDS = {"Breaking", "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def headings(level):
    return re.findall(rf"^{'#' * level} (.+)$", CHANGELOG, re.MULTILINE)


def releases():
    """(version, date) of each release heading, in the order of the file."""
    found = []
    for heading in headings(2)[1:]:
        match = RELEASE_HEADING.fullmatch(heading)
        assert match, f"release heading {heading!r} is not '[YYYY.MM.PATCH] - YYYY-MM-DD'"
        year, month, patch, date = match.groups()
        found.append(((int(year), int(month), int(patch)), datetime.date.fromisoformat(date)))
    return found


def test_unreleased_is_the_first_section():
    assert headings(2)[0] == "[Unreleased]"


def test_there_is_a_release():
    assert releases()


def test_each_version_is_named_for_its_release_month():
    for (year, month, _), date in releases():
        assert (year, month) == (date.year, date.month)


def test_versions_decrease_and_no_date_is_in_the_future():
    versions = [version for version, _ in releases()]
    dates = [date for _, date in releases()]
    assert versions == sorted(set(versions), reverse=True)
    assert dates == sorted(dates, reverse=True)
    assert max(dates) <= datetime.date.today()


def test_changes_are_grouped_by_kind():
    assert set(headings(3)) <= KINDS
