"""ORM models of the orientation domain."""
