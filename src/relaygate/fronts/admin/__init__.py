"""The admin API (`/admin/...`): keys, tenants, usage. Off unless an admin key is set."""
