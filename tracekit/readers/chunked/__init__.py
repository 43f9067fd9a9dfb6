"""The streaming read of a large JSON array of events, whatever the events are: the array (bare, or
the `traceEvents` of an object) cut into chunks between events (split.py), the content read through
one reused buffer (window.py), and each chunk decoded by the reader's own function, here or in
worker processes, then given in file order to the reader's collector (driver.py)."""
