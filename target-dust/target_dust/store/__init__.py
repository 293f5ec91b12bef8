"""The record store: every record the target has received, grouped by company.

One module per part: where `store_url` points (location), the connection (database),
the tables and migrations (schema), how records are kept (encoding), staging and the
flush's reads (records), records set aside, deletions (removals) and Dust table rows.
"""

from target_dust.store.encoding import canonical_json, primary_key, record_keys
from target_dust.store.faults import REBUILD_HINT, StoreError
from target_dust.store.kinds import COMPANIES, CUSTOMFIELDS, SHARED_KINDS, USERS
from target_dust.store.records import CompanyRecords, Store
from target_dust.store.removals import RemovalPlan
from target_dust.store.schema import SCHEMA_VERSION
from target_dust.store.set_aside import SetAsideGroup

__all__ = [
    "COMPANIES",
    "CUSTOMFIELDS",
    "REBUILD_HINT",
    "SCHEMA_VERSION",
    "SHARED_KINDS",
    "USERS",
    "CompanyRecords",
    "RemovalPlan",
    "SetAsideGroup",
    "Store",
    "StoreError",
    "canonical_json",
    "primary_key",
    "record_keys",
]
