package agent

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces out retries after failures: exponential from Base to
// Max, with full jitter so that a thousand agents cut off by one server
// restart do not come back in step.
type Backoff struct {
	Base, Max time.Duration
	// Rand returns a number in [0, 1); default math/rand/v2.
	Rand func() float64

	failures int
}

// Next returns how long to wait after one more failure.
func (b *Backoff) Next() time.Duration {
	b.failures++
	ceil := b.Base
	for i := 1; i < b.failures && ceil < b.Max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	// Never zero: at least half the ceiling, so a failing server is
	// not hammered by the unlucky draws.
	return ceil/2 + time.Duration(r()*float64(ceil/2))
}

// Reset forgets the failures after a success.
func (b *Backoff) Reset() { b.failures = 0 }

// Failures is how many failures in a row Next has seen.
func (b *Backoff) Failures() int { return b.failures }

// Jitter returns d moved by up to ±frac of itself, so that agents started
// together spread out over time.
func Jitter(d time.Duration, frac float64, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	return d + time.Duration((rnd()*2-1)*frac*float64(d))
}
