"""Use cases. Every write is one transaction that also appends an audit event."""
