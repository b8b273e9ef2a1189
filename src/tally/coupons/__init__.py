"""Coupons (coupons_tax_rates.md): reusable discounts referenced by documents."""
