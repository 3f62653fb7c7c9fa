"""Intake: turn raw email into normalised, classified, threaded mail."""
