"""The operator's service layer: the one implementation behind the operator CLI
(``gateway deliveries``, ``files``, ``partners``, ``trace``, ``users``) and the web console.

:class:`Queries` answers (newest first, paged, no claim content on lists); :class:`Operations`
acts, recording an audit event naming the actor; :class:`Accounts` manages console users.
"""

from gateway.service.accounts import Accounts
from gateway.service.operations import Operations
from gateway.service.queries import Queries, normalise_amount
from gateway.service.targets import resolve_target

__all__ = ["Accounts", "Operations", "Queries", "normalise_amount", "resolve_target"]
