"""`python -m tap_planhat`."""

from tap_planhat.tap import TapPlanhat

TapPlanhat.cli()
