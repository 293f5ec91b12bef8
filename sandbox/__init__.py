"""Local emulators of the Planhat and Dust APIs, and a deterministic tenant generator."""
