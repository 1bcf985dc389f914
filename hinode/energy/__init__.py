"""Adapters that connect the pure energy controllers to files, stores and MQTT."""
