"""The territory a CPTS serves: its communes and its identity, data loaded from a file.

A territory file (see ``app/demo/territory-bievre.json``) is imported into the database by
``premier-recours territory import FILE`` (and by ``seed-demo``); the app reads the
communes from there, never from the scheduler's benchmark generator.
"""
