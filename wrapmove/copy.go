package wrapmove

import (
	"fmt"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// copyOne copies a public key, certificate or data object by value and
// proves it by reading every defining attribute back.
func (m *mover) copyOne(so *object, e *JournalEntry) (outcome, error) {
	if st, done, err := m.reuseExisting(so, e, m.proveCopy); done || err != nil {
		return st, err
	}
	h, err := m.dst.M.CreateObject(m.dst.H, copyTemplate(so))
	if err != nil {
		n := m.removeOrphans(so.Class)
		return outcome{}, fmt.Errorf("%w (removed %d half-made object(s))", p11.Wrap("C_CreateObject on the target", err), n)
	}
	m.ix.add(so.Class, so.ID, so.Label, h)
	e.set(StateUnwrapped, "", "")
	proof, _, err := m.proveCopy(so, h)
	if err != nil {
		m.destroyTarget(h)
		return outcome{}, fmt.Errorf("read-back differs, target copy destroyed: %w", err)
	}
	return outcome{status: StatusCopied, proof: proof}, nil
}

func (m *mover) proveCopy(so *object, dh pkcs11.ObjectHandle) (string, pkcs11.ObjectHandle, error) {
	set := compareSet(so, false)
	if err := compareSource(m.src, so, m.dst, dh, set); err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("%d attributes read back equal", len(set)), 0, nil
}
