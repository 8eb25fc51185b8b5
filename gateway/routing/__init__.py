"""Who gets what: the content-based router's roster policy and the delivery plan.

``policy`` answers the splitter's questions (which member owns this payee, provider or PLB);
``plan`` fans parts out into deliveries with deterministic idempotency keys.
"""
