package moltbot

import (
	"context"
	"sync"
)

// Reply is the handle of one sent message: its acknowledgement, its streamed deltas and its final reply.
type Reply struct {
	ID string

	data  []byte // the send frame, kept for an idempotent resend after a reconnect
	epoch int    // connection that carried it last; -1: not sent yet
	order uint64 // send order, so resends keep the conversation's order

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change (broadcast)
	ack     *Ack
	acked   chan struct{}
	deltas  []string
	final   *FinalReply
	err     error
	done    chan struct{}
}

func newReply(id string, data []byte, order uint64) *Reply {
	return &Reply{ID: id, data: data, epoch: -1, order: order, changed: make(chan struct{}),
		acked: make(chan struct{}), done: make(chan struct{})}
}

// Ack waits until the server accepted the message. A done ctx returns its error, even if the ack is there.
func (r *Reply) Ack(ctx context.Context) (*Ack, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-r.acked:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.ack, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Final waits for the final reply. A cancelled ctx only stops this wait: the message stays in flight.
// A done ctx returns its error, even if the reply is there.
func (r *Reply) Final(ctx context.Context) (*FinalReply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.final, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Deltas streams the reply's text pieces in order; the channel closes when the reply is complete (or failed,
// see Final) or ctx is done. Each call starts from the first delta.
func (r *Reply) Deltas(ctx context.Context) <-chan string {
	out := make(chan string)
	go func() {
		defer close(out)
		for next := 0; ; {
			r.mu.Lock()
			if next < len(r.deltas) {
				d := r.deltas[next]
				next++
				r.mu.Unlock()
				select {
				case out <- d:
					continue
				case <-ctx.Done():
					return
				}
			}
			finished, changed := r.isDone(), r.changed
			r.mu.Unlock()
			if finished {
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Done is closed once the final reply (or an error) is there.
func (r *Reply) Done() <-chan struct{} { return r.done }

func (r *Reply) isDone() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *Reply) isAcked() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ack != nil
}

func (r *Reply) broadcastLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Reply) onAck(a *Ack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ack == nil && r.err == nil {
		r.ack = a
		close(r.acked)
	}
}

func (r *Reply) onDelta(text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.isDone() {
		r.deltas = append(r.deltas, text)
		r.broadcastLocked()
	}
}

func (r *Reply) onFinal(f *FinalReply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.isDone() {
		r.final = f
		close(r.done)
		r.broadcastLocked()
	}
}

func (r *Reply) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.isDone() {
		return
	}
	r.err = err
	if r.ack == nil {
		close(r.acked)
	}
	close(r.done)
	r.broadcastLocked()
}

// DeltasSoFar returns the deltas received so far.
func (r *Reply) DeltasSoFar() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.deltas...)
}
