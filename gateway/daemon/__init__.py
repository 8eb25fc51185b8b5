"""The daemon (``gateway run``): the wiring that walks every file through the stages.

``loop`` schedules polls and runs cycles; ``runtime`` builds the live objects from the
configuration; the stages of one file are ``receive`` → ``parse`` → ``route`` →
``acknowledge``, driven by ``pipeline``; ``deliver`` and ``pool`` drain the delivery queue;
``schedule``, ``health`` and ``metrics`` serve the operator.
"""
