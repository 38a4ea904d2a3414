"""The HTTP doors: the dyndns2 update API (and later REST and acme-dns)."""
