"""Open data: the JSON/CSV API for open indicators, the DCAT-AP-SE catalogue and the change feed."""
