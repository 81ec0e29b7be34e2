"""The contract's conformance tests, runnable against any GetQualityIndicators v2 endpoint."""
