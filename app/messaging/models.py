"""ORM models of the messaging domain."""
