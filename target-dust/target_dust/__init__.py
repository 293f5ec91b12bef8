"""Singer target for Dust data sources."""
