"""`python -m gai.cli ...` runs the `gai` command."""

import sys

from gai.cli import main

sys.exit(main())
