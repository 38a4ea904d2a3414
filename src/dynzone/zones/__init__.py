"""Zones: reading zone files, checking them, and the immutable snapshots queries read."""
