"""Pure business rules: no web framework, no database session, no I/O."""
