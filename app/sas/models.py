"""ORM models of the sas domain."""
