"""Evidence: reports, diagrams, redaction and manifests built from engine results."""
