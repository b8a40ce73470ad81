"""The desk's mutations, one a file: each checks the staff token and its input, calls the
domain, answers."""
