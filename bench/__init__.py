"""Benchmarks of tap-planhat and target-dust against the emulators (issue 6).

`python -m bench` generates tenants, runs the real tap and target as subprocesses and
writes `bench/RESULTS.md`. It measures counts from the emulators' request logs and
resources from the operating system, never estimates.
"""
