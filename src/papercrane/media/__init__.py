"""Uploads: validation, metadata stripping, variants, perceptual hashes, storage."""
