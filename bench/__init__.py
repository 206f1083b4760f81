"""Benchmarks: ``python -m bench [NAME ...]`` prints figures and the machine they ran on."""
