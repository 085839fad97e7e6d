"""The REST API (FastAPI) under ``/api/v1``: the same services as the CLI, so the same rules."""
