"""`python -m lsp_server` runs the nearcode command line."""

import sys

from .cli import main

sys.exit(main())
