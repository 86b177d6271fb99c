"""``python -m lobby_app`` runs the ``lobby-app`` command."""

import sys

from lobby_app.cli import main

sys.exit(main())
