"""A local stand-in for Inera's national service platform (NTjP: VP routing and TAK authorisation)."""
