"""Driven adapters: implementations of the ports in ``application.ports``."""
