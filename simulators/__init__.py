"""Hinode simulators package."""
