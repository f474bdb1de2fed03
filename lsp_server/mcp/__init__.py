"""The MCP server: the editor's per-folder indexes, as tools for coding agents.

A thin adapter over the engine, as `lsp_server/server` is for editors: `tools.py` holds the
tools (schemas, argument checks, answers), `folders.py` the roots and their indexes, and
`server.py` the Model Context Protocol wiring (the official `mcp` SDK, the `nearcode[mcp]`
extra).
"""
