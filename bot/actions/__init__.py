"""Side effects of the procedure: who gets what, rendered letters, the outbox and its delivery."""
