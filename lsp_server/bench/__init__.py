"""Benchmarks of the engine: retrieval quality (BEIR sets) and speed/memory (`nearcode bench`)."""
