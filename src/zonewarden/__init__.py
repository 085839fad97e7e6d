"""zonewarden: IEC 62443 cybersecurity management for OT plants."""

__version__ = "0.1.0"
