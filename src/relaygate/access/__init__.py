"""Who may call what: virtual keys, tenants, their scopes (grants), and the key cache."""
