"""Timescale compliance reports: figures for a period, and the workbook, CSV and HTML of them."""
