"""Command-line interface: thin click commands over services and engines."""
