"""Periodic jobs: idempotent management commands the worker loop (or cron) runs.
Modules register ``(command name, every N seconds)``."""

JOBS: list[tuple[str, int]] = [
    ("clearsessions", 3600),
]


def register(command: str, every_seconds: int) -> None:
    if (command, every_seconds) not in JOBS:
        JOBS.append((command, every_seconds))
