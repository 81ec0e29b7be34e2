"""The indicator catalogue: versioned descriptions with the texts the catalogue's editors require."""
