"""ORM models of the gp domain."""
