"""The recommendation rules, one module each: its check, its replay change and its texts
(docs/rules.md, "Adding a rule"). tracekit/rules/catalogue.py lists them."""
