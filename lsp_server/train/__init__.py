"""`nearcode train`: mine (query, code) pairs from pinned packages and train query adapters."""
