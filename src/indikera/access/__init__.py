"""Who is asking: identities (certificates, platform headers), agreements, admin authentication, audit."""
