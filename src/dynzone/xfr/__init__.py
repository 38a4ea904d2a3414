"""Zone transfers out (AXFR, IXFR), NOTIFY in and out, and propagation status."""
