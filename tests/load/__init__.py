"""Load tests: many protocol-level browser sessions against a fresh NetLens server (core/load.py)."""
