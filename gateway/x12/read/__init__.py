"""Reading 835s: the streaming reader into the canonical model, its checks, and the envelopes
of a received file (what an acknowledgment answers)."""
