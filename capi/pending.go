package main

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/miekg/pkcs11"
)

// The two-call length idiom: a caller asks for the output length (NULL
// buffer) or passes a buffer that is too small, then calls again with a
// big enough buffer, and the operation must still be active. The engine's
// operations are single-shot (a second C_Sign after the first would find
// no operation), and running an operation twice would also consume a GCM
// or ECDSA nonce twice. So the C layer runs the real operation on the first
// call, keeps its output per session until the caller fetches it, and
// hands it out on the second call with the same input. A different input,
// a new *Init of the same kind, closing the session or C_Finalize drops it.

type opKind int

const (
	opEncrypt opKind = iota
	opEncryptUpdate
	opEncryptFinal
	opDecrypt
	opDecryptUpdate
	opDecryptFinal
	opDigest
	opDigestFinal
	opSign
	opSignFinal
	opWrap
	opOperationState
)

// opFamilies: the kinds an *Init of the first kind invalidates.
var (
	famEncrypt = []opKind{opEncrypt, opEncryptUpdate, opEncryptFinal}
	famDecrypt = []opKind{opDecrypt, opDecryptUpdate, opDecryptFinal}
	famDigest  = []opKind{opDigest, opDigestFinal}
	famSign    = []opKind{opSign, opSignFinal}
)

type pendKey struct {
	sh pkcs11.SessionHandle
	op opKind
}

type pendVal struct {
	in, out []byte
}

// pendingOutputs holds the kept outputs, with their count readable without
// the lock: in the common case — nothing kept for anyone, as between two
// operations — take and drop cost one atomic load instead of a lock and a
// map lookup.
type pendingOutputs struct {
	mu sync.Mutex
	m  map[pendKey]pendVal
	n  atomic.Int64 // len(m), written under mu
}

var pend = pendingOutputs{m: map[pendKey]pendVal{}}

func wipe(b []byte) { clear(b) }

// remove deletes k, wiping its output. Called with mu held.
func (p *pendingOutputs) remove(k pendKey, v pendVal) {
	wipe(v.out)
	delete(p.m, k)
	p.n.Store(int64(len(p.m)))
}

// take returns the kept output for (sh, op) if its input equals in, with
// the kept copy of that input; a kept output for a different input is
// dropped. If the output fits the caller's buffer (fits), it is also
// forgotten here (removed), unwiped: the caller hands it out and wipes it.
func (p *pendingOutputs) take(sh pkcs11.SessionHandle, op opKind, in []byte, fits func(n int) bool) (keptIn, out []byte, ok, removed bool) {
	if p.n.Load() == 0 {
		return nil, nil, false, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pendKey{sh, op}
	v, ok := p.m[k]
	if !ok {
		return nil, nil, false, false
	}
	if !bytes.Equal(v.in, in) {
		p.remove(k, v)
		return nil, nil, false, false
	}
	if fits(len(v.out)) {
		delete(p.m, k)
		p.n.Store(int64(len(p.m)))
		return v.in, v.out, true, true
	}
	return v.in, v.out, true, false
}

// keep keeps out for (sh, op) and input in, which it takes over: the
// caller no longer changes in (nil matches an empty input).
func (p *pendingOutputs) keep(sh pkcs11.SessionHandle, op opKind, in, out []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[pendKey{sh, op}] = pendVal{in: in, out: out}
	p.n.Store(int64(len(p.m)))
}

// drop forgets (sh, op) for each op; with no ops, everything of sh.
func (p *pendingOutputs) drop(sh pkcs11.SessionHandle, ops ...opKind) {
	if p.n.Load() == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(ops) == 0 {
		for k, v := range p.m {
			if k.sh == sh {
				p.remove(k, v)
			}
		}
		return
	}
	for _, op := range ops {
		k := pendKey{sh, op}
		if v, ok := p.m[k]; ok {
			p.remove(k, v)
		}
	}
}

// prune drops the outputs of sessions for which alive reports false.
func (p *pendingOutputs) prune(alive func(pkcs11.SessionHandle) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.m {
		if !alive(k.sh) {
			p.remove(k, v)
		}
	}
}

func (p *pendingOutputs) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.m {
		p.remove(k, v)
	}
}
