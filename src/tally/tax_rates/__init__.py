"""Tax rates (coupons_tax_rates.md): reusable taxes referenced by documents and items."""
