"""Rendering canonical remittances into the formats pharmacies want, driven by mappings.

A mapping is a TOML file naming its kind (csv, json, xml) and, for csv and xml, which
canonical fields go where (``claim.claim_id``, ``payment.trace_number``, ``payee.npi``).
The built-in mappings ship inside the package (``gateway/render/mappings``) so an installed
gateway finds them; a PSAO's own mappings go in a site directory (the top-level ``mappings/``
of a deployment) and are found by name first. See mappings/README.md.
"""
