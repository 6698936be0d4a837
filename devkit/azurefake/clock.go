package azurefake

import (
	"sync"
	"time"
)

// Clock is the emulator's notion of now. It follows the machine's clock plus
// an offset that tests move forward with Advance, so that token lifetimes,
// rotations, soft-delete delays and throttling windows can be crossed without
// sleeping. It is safe for concurrent use.
type Clock struct {
	mu       sync.Mutex
	manual   bool
	at       time.Time // the time of a manual clock
	offset   time.Duration
	nextHook int
	hooks    map[int]func(time.Time)
}

// NewClock returns a clock that reads the machine's time until moved.
func NewClock() *Clock {
	return &Clock{hooks: map[int]func(time.Time){}}
}

// NewManualClock returns a clock standing at t that moves only when
// advanced. Tests that run SDK clients inside a testing/synctest bubble need
// it: there, time.Now is the bubble's fake time, so a clock derived from it
// would disagree between the bubble and the emulator's own goroutines.
func NewManualClock(t time.Time) *Clock {
	return &Clock{manual: true, at: t, hooks: map[int]func(time.Time){}}
}

// Now returns the emulator's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.manual {
		return c.at.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d and runs, before returning, every
// time-driven action that became due (token-file rotation), so a test sees
// their effect as soon as Advance returns.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	now := c.nowLocked()
	hooks := make([]func(time.Time), 0, len(c.hooks))
	for _, h := range c.hooks {
		hooks = append(hooks, h)
	}
	c.mu.Unlock()
	for _, h := range hooks {
		h(now)
	}
}

// onAdvance registers f to run after every Advance; the returned function
// removes it.
func (c *Clock) onAdvance(f func(time.Time)) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextHook
	c.nextHook++
	c.hooks[id] = f
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.hooks, id)
	}
}
