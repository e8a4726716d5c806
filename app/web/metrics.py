"""The metrics moved below the services (app/metrics.py); this name stays for web code."""

from app.metrics import *  # noqa: F403
