"""ORM models of the indicators domain."""
