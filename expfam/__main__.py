"""``python -m expfam`` is the ``expfam`` command."""

import sys

from expfam.cli import main

if __name__ == "__main__":
    sys.exit(main())
