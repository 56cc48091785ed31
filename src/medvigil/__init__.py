"""MedVigil: post-market quality system for medical-device companies."""

__version__ = "0.1.0"
