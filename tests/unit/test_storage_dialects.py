"""What the engines' sessions translate: SQLite's `?` placeholders for PostgreSQL."""

from __future__ import annotations

from storage.postgres import numbered, redacted


def test_placeholders_are_numbered_outside_quoted_strings() -> None:
    sql = "UPDATE t SET a = ?, b = 'why? it''s ?' WHERE c IN (?, ?) AND d != '{}'"
    assert numbered(sql) == (
        "UPDATE t SET a = $1, b = 'why? it''s ?' WHERE c IN ($2, $3) AND d != '{}'"
    )


def test_messages_show_a_url_without_its_password() -> None:
    assert redacted("postgresql://bot:s3cret@db:5432/oms") == "postgresql://bot:***@db:5432/oms"
    assert redacted("postgresql://bot@db/oms") == "postgresql://bot@db/oms"
