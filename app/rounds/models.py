"""ORM models of the rounds domain."""
