"""The preview UI: what a registry's staff (and the public) see of the published indicators."""
