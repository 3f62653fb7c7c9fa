"""Benchmarks: intake throughput, store cost, memory, Graph economy, latency (`python -m bench`)."""
