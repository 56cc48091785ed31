"""Vigilance (issue #10): suspected adverse events, reportability decisions per market,
regulator reports with their deadlines, and the countdown board (VIG-1 … VIG-4, VIG-7)."""
