"""The customer-facing pages behind the C18 capability URLs (no API key: the URL is the key)."""
