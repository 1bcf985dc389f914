"""The sub-commands of the ``hinode`` CLI, one module per area."""
