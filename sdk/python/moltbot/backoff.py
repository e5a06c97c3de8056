"""Exponential reconnect backoff with full jitter."""

import random
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Backoff:
    """Delay before reconnect attempt ``n`` (0-based): random in [0, min(max_delay, initial * factor**n)].
    ``max_attempts`` None retries until the client is closed."""

    initial: float = 0.2
    factor: float = 2.0
    max_delay: float = 10.0
    max_attempts: Optional[int] = 10
    jitter: bool = True
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.initial * (self.factor ** attempt))
        # Full jitter: many clients dropped together do not reconnect in lock step.
        return self._rng.uniform(0, ceiling) if self.jitter else ceiling

    def allows(self, attempt: int) -> bool:
        return self.max_attempts is None or attempt < self.max_attempts
