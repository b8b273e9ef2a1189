"""Customer credit balances: the ledger and credit balance adjustments."""
