package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// The services below are in-process fakes of the remote services an order
// saga calls: an inventory, a payment provider and a shipping company.
// Each is idempotent by key, as real payment APIs are: a request that
// carries an idempotency key already seen does not act again, it replays
// the first answer and says so (Stripe calls this Idempotent-Replayed).
// The saga gives every action such a key (saga.IdempotencyKey), so
// a retry, or a recovery after a crash, cannot make an effect happen twice.
//
// The services outlive a crash of the order process, as remote services
// do, and record every call they receive so that the test can check the
// exact sequence.

// Call is one request a fake service received.
type Call struct {
	Service string // "inventory", "payments" or "shipping"
	Op      string // what was asked: reserve, release, charge, refund, create, cancel, lookup
	Key     string // the request's idempotency key
	Result  string // the id of the thing made or acted on; "replayed …" for a key seen before; "error: …"
}

// String formats the call on one line, the key shortened.
func (c Call) String() string {
	return fmt.Sprintf("%s %s [%s] %s", c.Service, c.Op, short(c.Key), c.Result)
}

// short returns the first 8 hex digits of an idempotency key, enough to
// tell the keys of one saga run apart.
func short(key string) string {
	if len(key) > 8 {
		return key[:8]
	}
	return key
}

// Services are the fake remote services, sharing one record of calls.
type Services struct {
	mu    sync.Mutex // guards calls and every service's maps
	calls []Call

	Inventory *Inventory
	Payments  *Payments
	Shipping  *Shipping
}

// NewServices returns the three services, empty.
func NewServices() *Services {
	s := &Services{}
	s.Inventory = &Inventory{s: s, byKey: map[string]string{}, released: map[string]string{}}
	s.Payments = &Payments{s: s, byKey: map[string]*Charge{}, refunds: map[string]*Charge{}}
	s.Shipping = &Shipping{s: s, byKey: map[string]string{}, cancelled: map[string]string{}}
	return s
}

// Calls returns a copy of every call received so far, in order.
func (s *Services) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// record appends a call; s.mu must be held.
func (s *Services) record(service, op, key, result string) {
	s.calls = append(s.calls, Call{Service: service, Op: op, Key: key, Result: result})
}

// Reply is a service's answer to a request that makes something.
type Reply struct {
	ID       string // the id of the reservation, charge or shipment
	Replayed bool   // the key had been seen: nothing new was done, this is the first answer again
}

// Inventory reserves stock for orders.
type Inventory struct {
	s        *Services
	byKey    map[string]string // reserve key → reservation id
	released map[string]string // release key → reservation id
}

// Reserve reserves quantity items of sku, once per key.
func (inv *Inventory) Reserve(_ context.Context, key, sku string, quantity int) (Reply, error) {
	inv.s.mu.Lock()
	defer inv.s.mu.Unlock()
	if id, ok := inv.byKey[key]; ok {
		inv.s.record("inventory", "reserve", key, "replayed "+id)
		return Reply{ID: id, Replayed: true}, nil
	}
	id := fmt.Sprintf("res-%d", len(inv.byKey)+1)
	inv.byKey[key] = id
	inv.s.record("inventory", "reserve", key, id)
	return Reply{ID: id}, nil
}

// Release gives a reservation's items back, once per key.
func (inv *Inventory) Release(_ context.Context, key, id string) (Reply, error) {
	inv.s.mu.Lock()
	defer inv.s.mu.Unlock()
	if _, ok := inv.released[key]; ok {
		inv.s.record("inventory", "release", key, "replayed "+id)
		return Reply{ID: id, Replayed: true}, nil
	}
	inv.released[key] = id
	inv.s.record("inventory", "release", key, id)
	return Reply{ID: id}, nil
}

// Lookup reports the reservation made with a reserve key, if any.
func (inv *Inventory) Lookup(_ context.Context, key string) (id string, ok bool) {
	inv.s.mu.Lock()
	defer inv.s.mu.Unlock()
	id, ok = inv.byKey[key]
	inv.s.record("inventory", "lookup", key, id)
	return id, ok
}

// ErrNoReply is the error of a request whose reply was lost: the caller
// cannot tell whether the service acted on it.
var ErrNoReply = errors.New("no reply (timeout)")

// Charge is a payment taken from the customer.
type Charge struct {
	ID, Order string
	Cents     int
	Key       string // the charge's idempotency key
	Calls     int    // charge requests received with Key
	Refunds   int    // refunds that took effect: 0 or 1
}

// Payments charges and refunds customers. It records charges by
// idempotency key: a charge request with a key already charged replays
// the first charge instead of taking the money again.
type Payments struct {
	s       *Services
	charges []*Charge          // in the order made
	byKey   map[string]*Charge // charge key → charge
	refunds map[string]*Charge // refund key → charge refunded

	// LoseReplies is how many replies to charge requests the network
	// loses from now on: the charge is made, the caller gets ErrNoReply.
	LoseReplies int
}

// Charge takes cents from the customer for order, once per key.
func (p *Payments) Charge(_ context.Context, key, order string, cents int) (Reply, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if ch, ok := p.byKey[key]; ok {
		ch.Calls++
		p.s.record("payments", "charge", key, "replayed "+ch.ID)
		return Reply{ID: ch.ID, Replayed: true}, nil
	}
	ch := &Charge{ID: fmt.Sprintf("ch-%d", len(p.charges)+1), Order: order, Cents: cents, Key: key, Calls: 1}
	p.charges = append(p.charges, ch)
	p.byKey[key] = ch
	if p.LoseReplies > 0 {
		p.LoseReplies--
		p.s.record("payments", "charge", key, ch.ID+", reply lost")
		return Reply{}, fmt.Errorf("payments: %w", ErrNoReply)
	}
	p.s.record("payments", "charge", key, ch.ID)
	return Reply{ID: ch.ID}, nil
}

// Refund gives a charge's money back, once per key. A charge is refunded
// at most once, whatever the keys.
func (p *Payments) Refund(_ context.Context, key, chargeID string) (Reply, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if ch, ok := p.refunds[key]; ok {
		p.s.record("payments", "refund", key, "replayed "+ch.ID)
		return Reply{ID: ch.ID, Replayed: true}, nil
	}
	i := len(p.charges)
	for k, ch := range p.charges {
		if ch.ID == chargeID {
			i = k
		}
	}
	if i == len(p.charges) || p.charges[i].Refunds > 0 {
		err := fmt.Errorf("payments: no refundable charge %q", chargeID)
		p.s.record("payments", "refund", key, "error: "+err.Error())
		return Reply{}, err
	}
	ch := p.charges[i]
	ch.Refunds++
	p.refunds[key] = ch
	p.s.record("payments", "refund", key, ch.ID)
	return Reply{ID: ch.ID}, nil
}

// Lookup reports the charge made with a charge key, if any.
func (p *Payments) Lookup(_ context.Context, key string) (id string, ok bool) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	ch, ok := p.byKey[key]
	if ok {
		id = ch.ID
	}
	p.s.record("payments", "lookup", key, id)
	return id, ok
}

// Charges returns a copy of every charge made, in order.
func (p *Payments) Charges() []Charge {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	out := make([]Charge, len(p.charges))
	for i, ch := range p.charges {
		out[i] = *ch
	}
	return out
}

// Shipping creates shipments, except to addresses it does not serve.
type Shipping struct {
	s         *Services
	byKey     map[string]string // create key → shipment id
	cancelled map[string]string // cancel key → shipment id
}

// Create books a shipment of order to address, once per key.
func (sh *Shipping) Create(_ context.Context, key, order, address string) (Reply, error) {
	sh.s.mu.Lock()
	defer sh.s.mu.Unlock()
	if id, ok := sh.byKey[key]; ok {
		sh.s.record("shipping", "create", key, "replayed "+id)
		return Reply{ID: id, Replayed: true}, nil
	}
	if address == unservedAddress {
		err := fmt.Errorf("shipping: no courier serves %q", address)
		sh.s.record("shipping", "create", key, "error: "+err.Error())
		return Reply{}, err
	}
	id := fmt.Sprintf("ship-%d", len(sh.byKey)+1)
	sh.byKey[key] = id
	sh.s.record("shipping", "create", key, id)
	return Reply{ID: id}, nil
}

// unservedAddress is where no courier goes.
const unservedAddress = "Atlantis"

// Cancel cancels a shipment, once per key.
func (sh *Shipping) Cancel(_ context.Context, key, id string) (Reply, error) {
	sh.s.mu.Lock()
	defer sh.s.mu.Unlock()
	if _, ok := sh.cancelled[key]; ok {
		sh.s.record("shipping", "cancel", key, "replayed "+id)
		return Reply{ID: id, Replayed: true}, nil
	}
	sh.cancelled[key] = id
	sh.s.record("shipping", "cancel", key, id)
	return Reply{ID: id}, nil
}

// Lookup reports the shipment created with a create key, if any.
func (sh *Shipping) Lookup(_ context.Context, key string) (id string, ok bool) {
	sh.s.mu.Lock()
	defer sh.s.mu.Unlock()
	id, ok = sh.byKey[key]
	sh.s.record("shipping", "lookup", key, id)
	return id, ok
}
