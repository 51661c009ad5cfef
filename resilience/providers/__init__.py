"""Provider adapters: one module per provider, loaded lazily by resilience.registry.get_adapter."""
