"""The patron's mutations, one a file: each checks its input, calls the domain, answers."""
