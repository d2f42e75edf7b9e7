"""A pack that fails to import: the registry must report it and load the others."""

import this_module_does_not_exist  # noqa: F401
