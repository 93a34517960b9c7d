"""ORM models of the web domain."""
