"""Incoming incident webhooks: verify the signature, parse the payload, call a service."""
