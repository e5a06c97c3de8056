package moltbot

import (
	"math"
	"math/rand"
	"time"
)

// Backoff is the reconnect policy: attempt n (0-based) waits a random time in [0, min(Max, Initial*Factor^n)]
// (full jitter, so clients dropped together do not reconnect in lock step). MaxAttempts 0 retries forever.
type Backoff struct {
	Initial     time.Duration
	Factor      float64
	Max         time.Duration
	MaxAttempts int
	NoJitter    bool
}

// DefaultBackoff: 200 ms doubling up to 10 s, at most 10 attempts.
var DefaultBackoff = Backoff{Initial: 200 * time.Millisecond, Factor: 2, Max: 10 * time.Second, MaxAttempts: 10}

// Delay is the wait before attempt n.
func (b Backoff) Delay(n int) time.Duration {
	ceiling := math.Min(float64(b.Max), float64(b.Initial)*math.Pow(b.Factor, float64(n)))
	if b.NoJitter {
		return time.Duration(ceiling)
	}
	return time.Duration(rand.Float64() * ceiling)
}

// Allows reports whether attempt n may be made.
func (b Backoff) Allows(n int) bool { return b.MaxAttempts <= 0 || n < b.MaxAttempts }
