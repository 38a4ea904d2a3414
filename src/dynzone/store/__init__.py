"""The durable store: SQLite in ``data_dir``, the truth for every zone's records."""
