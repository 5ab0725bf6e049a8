"""The admin API's client for the `relaygate keys|tenants|usage` commands. Apart from
`relaygate.client` (which loads httpx on import) so that `relaygate serve` loads none of it."""
