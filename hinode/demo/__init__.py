"""``hinode demo``: a simulated city quarter, end to end, in one process."""
