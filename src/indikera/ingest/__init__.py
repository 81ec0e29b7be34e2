"""Import registry results (VIS flat files, XLSX, JSON): validate everything, then write all or nothing."""
