"""Comparing traces: metric catalogue, diffs, budgets, the noise model and pass/fail verdicts.

Pure functions on analysis documents and per-step samples; reading files is the CLI's job.
"""
