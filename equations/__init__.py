"""Shipped model files (TOML), one folder per model family; installed as package data."""
