"""Pieces every domain shares: time, text folding, errors, security headers."""
