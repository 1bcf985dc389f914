"""``hinode demo``."""


def run_demo() -> None:
    """Run the simulated city quarter end to end."""
