"""The built-in node packs. Each sub-package is a pack that uses only the public node API."""
