"""The kinds of record the store links by rule rather than by a company field."""

COMPANIES = "companies"
"""A company's own record: its document exists because this one does."""
USERS = "users"
"""Planhat users: named by companies as owner or co-owner."""
CUSTOMFIELDS = "customfields"
"""Field definitions: a change shows in every document."""
SHARED_KINDS = (USERS, CUSTOMFIELDS)
"""Kinds that belong to no company: every document may read them."""
