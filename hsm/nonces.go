package hsm

import (
	"crypto/rand"
	"encoding/binary"
	"sync"

	"github.com/craton-co/craton/hsm/mech"
	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// nonceBlock is how many GCM counters a token key reserves per store write:
// one fsync per 4096 encryptions, and a restart skips at most 4096 values.
const nonceBlock = 4096

// nonceState is the deterministic AES-GCM nonce counter of one key object:
// nonce = 4-byte per-key prefix ‖ 8-byte big-endian counter. Token keys
// reserve counter blocks durably in the store before using them, so a nonce
// never repeats across restarts or crashes; session keys count in memory.
type nonceState struct {
	c          *Ctx
	slot       uint
	id         uint64
	persistent bool

	mu     sync.Mutex
	prefix []byte
	next   uint64
	end    uint64
}

func newNonceState(c *Ctx, slot uint, id uint64, persistent bool) *nonceState {
	return &nonceState{c: c, slot: slot, id: id, persistent: persistent}
}

// source is the mech.NonceSource of this key.
func (n *nonceState) source(st *store.Store) mech.NonceSource {
	return func() ([]byte, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.next == n.end {
			if err := n.refill(st); err != nil {
				return nil, err
			}
		}
		nonce := binary.BigEndian.AppendUint64(append(make([]byte, 0, 12), n.prefix...), n.next)
		n.next++
		return nonce, nil
	}
}

func (n *nonceState) refill(st *store.Store) error {
	if !n.persistent {
		if n.prefix != nil {
			return rvErr(pkcs11.CKR_GENERAL_ERROR) // 2^64 encryptions: unreachable
		}
		n.prefix = make([]byte, 4)
		if _, err := rand.Read(n.prefix); err != nil {
			return errGeneral
		}
		n.end = ^uint64(0)
		return nil
	}
	nb, err := st.ReserveNonces(n.slot, n.id, nonceBlock)
	if err != nil {
		return errGeneral
	}
	n.prefix, n.next, n.end = nb.Prefix, nb.Next, nb.End
	return nil
}
