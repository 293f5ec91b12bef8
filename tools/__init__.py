"""Maintenance commands of the repository (generators run by make)."""
