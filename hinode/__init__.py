"""Hinode hinode package."""
