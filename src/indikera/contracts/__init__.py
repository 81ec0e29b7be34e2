"""RIVTA service contracts: SOAP 1.1 envelope and faults, LogicalAddress, one module per contract version."""
