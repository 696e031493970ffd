"""`python -m gridwatch`: the same as the `gridwatch` console script."""
import sys

from gridwatch.cli import main

sys.exit(main())
