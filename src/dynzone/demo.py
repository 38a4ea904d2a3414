"""The demo zone that ``dynzone serve`` writes and serves with no configuration."""

from __future__ import annotations

from pathlib import Path

from dynzone.config import DEMO_ZONE
from dynzone.data_dir import write_private
from dynzone.passwords import store_generated
from dynzone.policy import Grant
from dynzone.store.base import Store
from dynzone.users import PREFIX, new_password

DEMO_USER = "demo"

DEMO_ZONE_TEXT = f"""\
; Demo zone written by `dynzone serve`. Edit it and send SIGHUP to reload.
$ORIGIN {DEMO_ZONE}.
$TTL 300
@       IN SOA  ns1 hostmaster 1 3600 600 86400 60
        IN NS   ns1
        IN A    127.0.0.1
        IN TXT  "dynzone demo zone"
ns1     IN A    127.0.0.1
www     IN A    127.0.0.1
www     IN AAAA ::1
home    IN CNAME www
*.lab   IN A    127.0.0.2
"""


def ensure_demo_zone(path: Path) -> bool:
    """Write the demo zone file if it does not exist yet; True if written."""
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # It lives in the data directory, which is private.
    write_private(path, DEMO_ZONE_TEXT.encode())
    return True


def ensure_demo_user(store: Store) -> str:
    """(Re)create the demo user with a fresh password, and return that password.

    The password is stored only as a hash, so a new one is made at every demo
    start to be able to print working ``curl`` lines.
    """
    password = new_password()
    with store.write() as txn:
        txn.remove_identity(PREFIX + DEMO_USER)
        txn.add_identity(
            PREFIX + DEMO_USER, store_generated(password), [Grant(f"*.{DEMO_ZONE}.")], "demo"
        )
    return password
