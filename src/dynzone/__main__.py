"""``python -m dynzone`` runs the command line."""

from dynzone.cli import main

raise SystemExit(main())
