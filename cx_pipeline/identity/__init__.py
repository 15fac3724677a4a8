"""Identity resolution support: measuring how well source records were linked into customers."""
