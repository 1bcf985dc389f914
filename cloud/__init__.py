"""Hinode cloud package."""
