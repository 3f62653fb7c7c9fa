"""The procedure: its definition, the case model and the pure engine that applies events."""
