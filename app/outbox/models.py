"""ORM models of the outbox domain."""
