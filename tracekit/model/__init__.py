"""The canonical model: event table schema, interval algebra, steps."""
