"""Demo fixtures (members, notes and bundled photos) for ``papercrane seed-demo``."""
