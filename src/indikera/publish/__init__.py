"""Use cases that decide who sees what: publication levels, approvals, de-publication."""
