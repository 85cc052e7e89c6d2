"""Outbound webhooks for integrators (issue 11, point 8).

- events.py: which changes make which events; deliveries queued in the change's transaction
  (called by services.activity for every Activity row).
- delivery.py: the worker that sends them (claimed across processes, retried with backoff,
  webhooks switched off after repeated failures).
- manage.py: the administrators' operations (create, update, delete, test, redeliver).
- targets.py: which URLs may be called (no private addresses); signing.py: the signature.
"""
