package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/pkcs11"
)

// baseIdentity is "class:label:id-hex", with the label percent-escaped so
// that identities are one printable line without ':' or ';' inside parts.
// It does not depend on object handles, which change between sessions.
func baseIdentity(class string, rawLabel []byte, id string) string {
	return class + ":" + escapeIdent(rawLabel) + ":" + id
}

// assignIdentities makes identities unique. Objects sharing class, label
// and ID get "#" and 8 hex digits of a hash over what tells them apart
// (fingerprint, check value, certificate serial, data value, size); objects
// identical even in that get "~2", "~3"... in the module's order.
func assignIdentities(recs []Record, objs []object) {
	groups := map[string][]int{}
	for i := range recs {
		recs[i].Identity = baseIdentity(recs[i].Class, objs[i].a.Bytes(pkcs11.CKA_LABEL), recs[i].ID)
		groups[recs[i].Identity] = append(groups[recs[i].Identity], i)
	}
	for _, idx := range groups {
		if len(idx) < 2 {
			continue
		}
		seen := map[string]int{}
		for _, i := range idx {
			id := recs[i].Identity + "#" + discriminator(recs[i], objs[i])
			seen[id]++
			if n := seen[id]; n > 1 {
				id += fmt.Sprintf("~%d", n)
			}
			recs[i].Identity = id
		}
	}
}

func discriminator(r Record, o object) string {
	h := sha256.New()
	for _, part := range []string{r.KeyType, r.Size, r.Fingerprint, r.CheckValue, r.Serial, r.Subject} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	if o.class == pkcs11.CKO_DATA || o.class == pkcs11.CKO_CERTIFICATE {
		h.Write(o.a.Bytes(pkcs11.CKA_VALUE))
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// linkable classes are the ones CKA_ID binds: a key pair and its certificate.
func linkable(class string) bool {
	return class == ClassPrivateKey || class == ClassPublicKey || class == ClassCertificate
}

// assignLinks links private key, public key and certificate that share a
// non-empty CKA_ID, and warns when linked objects hold different public keys.
func assignLinks(recs []Record) []string {
	byID := map[string][]int{}
	for i, r := range recs {
		if linkable(r.Class) && r.ID != "" {
			byID[r.ID] = append(byID[r.ID], i)
		}
	}
	var warnings []string
	for id, idx := range byID {
		for _, i := range idx {
			for _, j := range idx {
				if recs[j].Class != recs[i].Class {
					recs[i].Links = append(recs[i].Links, recs[j].Identity)
				}
			}
			sort.Strings(recs[i].Links)
		}
		if w := fingerprintMismatch(id, recs, idx); w != "" {
			warnings = append(warnings, w)
		}
	}
	sort.Strings(warnings)
	return warnings
}

func fingerprintMismatch(id string, recs []Record, idx []int) string {
	fps := map[string][]string{}
	for _, i := range idx {
		if recs[i].Fingerprint != "" {
			fps[recs[i].Fingerprint] = append(fps[recs[i].Fingerprint], recs[i].Identity)
		}
	}
	if len(fps) < 2 {
		return ""
	}
	var parts []string
	for fp, ids := range fps {
		parts = append(parts, strings.Join(ids, ", ")+" = "+fp[:16]+"…")
	}
	sort.Strings(parts)
	return fmt.Sprintf("CKA_ID %s links objects with different public keys: %s", id, strings.Join(parts, "; "))
}

// borrowFingerprints gives private keys without public attributes (EC and
// EdDSA in SoftHSM) the fingerprint of the one public key with the same
// CKA_ID and key type.
func borrowFingerprints(recs []Record) {
	pubs := map[string][]int{}
	for i, r := range recs {
		if r.Class == ClassPublicKey && r.ID != "" && r.Fingerprint != "" {
			k := r.ID + "/" + r.KeyType
			pubs[k] = append(pubs[k], i)
		}
	}
	for i, r := range recs {
		if r.Class != ClassPrivateKey || r.Fingerprint != "" || r.ID == "" {
			continue
		}
		if m := pubs[r.ID+"/"+r.KeyType]; len(m) == 1 {
			recs[i].Fingerprint = recs[m[0]].Fingerprint
		}
	}
}
