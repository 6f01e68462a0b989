"""datatier's benchmark suite: workloads timed side by side with peers, written as JSON and Markdown.

Run it with ``python -m bench`` (see ``bench/README.md``).
"""
