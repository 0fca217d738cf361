"""Run met2rdf as ``python -m met2rdf``."""

import sys

from .cli import main

sys.exit(main())
