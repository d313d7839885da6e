import time


class TokenBucket:
    """Allows bursts of `burst` events, refilled at `rate` per second."""

    # One per connection: slots keep thousands of idle ones small.
    __slots__ = ("rate", "burst", "clock", "tokens", "updated")

    def __init__(self, rate, burst, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.updated = float(burst), clock()

    def take(self):
        """Spend one token if there is one; return whether there was."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
