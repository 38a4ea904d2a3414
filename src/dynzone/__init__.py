"""dynzone: an authoritative DNS server with built-in dynamic DNS."""

__version__ = "0.1.0"
