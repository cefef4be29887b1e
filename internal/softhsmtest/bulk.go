package softhsmtest

import (
	"crypto/rsa"
	"fmt"

	"github.com/craton-co/craton/p11"
	"github.com/miekg/pkcs11"
)

// bulkCycle is the mix PopulateBulk repeats, in objects: AES-256, a 32-byte
// generic secret, an EC P-256 pair (2 objects), AES-256, generic, an RSA-2048
// pair (2 objects, imported from Go key material because in-token RSA key
// generation would dominate the build time).
const bulkCycle = 8

// PopulateBulk creates n extractable objects labelled bulk-00000… with
// 3-byte CKA_IDs b00000…, for benchmarks. Secret and private keys are
// sensitive and extractable; n counts objects, so a key pair counts two.
func PopulateBulk(tok *Token, n int) []Expected {
	tok.f.t.Helper()
	var out []Expected
	tok.Do(func(s *p11.Session) {
		var err error
		out, err = populateBulk(s, n)
		if err != nil {
			tok.f.t.Fatalf("softhsmtest: bulk %q: %v", tok.Label, err)
		}
	})
	return out
}

func populateBulk(s *p11.Session, n int) ([]Expected, error) {
	rsaKeys, err := goRSAKeys(2)
	if err != nil {
		return nil, err
	}
	out := make([]Expected, 0, n)
	for i := 0; len(out) < n; i++ {
		id, label := fmt.Sprintf("b%05x", i), fmt.Sprintf("bulk-%05d", i)
		left := n - len(out)
		var add []Expected
		switch pos := len(out) % bulkCycle; {
		case left >= 2 && pos == 2:
			add, err = bulkEC(s, id, label)
		case left >= 2 && pos == 6:
			add, err = bulkRSA(s, id, label, rsaKeys[i%len(rsaKeys)])
		case pos == 1 || pos == 5:
			add, err = bulkSecret(s, id, label, pkcs11.CKK_GENERIC_SECRET)
		default:
			add, err = bulkSecret(s, id, label, pkcs11.CKK_AES)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, add...)
	}
	return out, nil
}

func bulkSecret(s *p11.Session, id, label string, keyType uint) ([]Expected, error) {
	sp := secretSpec{id: id, label: label, keyType: keyType, length: 32, extractable: true, sensitive: true, private: true}
	if err := genSecret(s, sp); err != nil {
		return nil, err
	}
	return []Expected{secretExpected(sp, false)}, nil
}

func bulkEC(s *p11.Session, id, label string) ([]Expected, error) {
	p := pairSpec{id: id, label: label, keyType: pkcs11.CKK_EC, params: oidP256, curve: "P-256", bits: 256, x: true, u: usage{sign: true}}
	if err := genPairSpec(s, p); err != nil {
		return nil, err
	}
	return pairExpected(p), nil
}

func bulkRSA(s *p11.Session, id, label string, key *rsa.PrivateKey) ([]Expected, error) {
	if err := importRSAPair(s, id, label, key, true); err != nil {
		return nil, err
	}
	p := pairSpec{id: id, label: label, keyType: pkcs11.CKK_RSA, bits: 2048, x: true}
	es := pairExpected(p)
	for i := range es { // imported: no provenance flags
		es[i].Local, es[i].AlwaysSensitive, es[i].NeverExtractable, es[i].Imported = false, false, false, true
	}
	return es, nil
}
