"""The DNS side: wire parsing, the lookup algorithm, rendering, and listeners."""
