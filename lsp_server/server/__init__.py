"""The language server: a thin LSP adapter over the engine."""
