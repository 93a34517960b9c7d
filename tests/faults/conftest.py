"""The fault tests use the core world: two titulars, an adjoint, one account per role."""

from tests.core.conftest import world  # noqa: F401
