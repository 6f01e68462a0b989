"""Peers: the other tools each workload is timed against, run the way their users run them."""
