"""Encryption at rest of the payload archive (issue 13): the sealed-payload format
(stream.py), the key-encryption keys and their ids (keys.py), and where each payload's
wrapped data key is kept (envelopes.py). docs/security.md tells operators how to run it."""
