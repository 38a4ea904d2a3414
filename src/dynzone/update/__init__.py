"""RFC 2136 dynamic UPDATE: sections, prerequisites, applying, and the door that commits."""
