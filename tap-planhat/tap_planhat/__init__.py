"""Singer tap for Planhat."""
