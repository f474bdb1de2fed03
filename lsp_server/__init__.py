"""nearcode: local semantic code search for the editor."""

__version__ = "0.1.0"
