"""Which stored scans some record still needs."""

from __future__ import annotations

from storage.database import Database


async def claimed_scans(database: Database) -> set[str]:
    """The scan names an application names, or a dialog's answers do (the dialog keeps a
    draft's scan under "scan_name" in its FSM data: bot/dialogs/answers.py)."""
    async with database.acquire() as connection:
        rows = await connection.execute_fetchall(
            "SELECT scan_name FROM applications WHERE scan_name IS NOT NULL"
            " UNION SELECT json_extract(data, '$.scan_name') FROM fsm_state"
            " WHERE json_extract(data, '$.scan_name') IS NOT NULL"
        )
    return {str(row[0]) for row in rows}
