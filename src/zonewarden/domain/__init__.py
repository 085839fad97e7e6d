"""Domain model: frozen pydantic models and value types. No I/O here."""
