"""Hinode edge package."""
