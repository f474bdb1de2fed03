"""The search engine: scan -> chunk -> embed -> store -> search. Knows nothing of LSP."""
