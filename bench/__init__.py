"""Benchmarks and offline evaluations: ``papercrane bench NAME`` runs ``bench/NAME.py``."""
