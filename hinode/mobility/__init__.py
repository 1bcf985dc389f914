"""The shuttle service's files: its log of decisions and its state, as the service runs them."""

from hinode.mobility._files import STATE_FILE, JsonlServiceLog, StateFile

__all__ = ["STATE_FILE", "JsonlServiceLog", "StateFile"]
