from tests.core.conftest import world  # noqa: F401
