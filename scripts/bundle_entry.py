"""The bundle's program: the same ``lobby-app`` as the installed package."""

import multiprocessing
import sys

from lobby_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
