package inventory

import (
	"sort"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// need is one entry of the documented mapping from a key's type and usage
// flags to the mechanisms it needs on the target (docs/inventory-format.md).
type need struct {
	purpose string
	flag    uint // CKF_ the target must advertise for it
	mechs   []uint
}

// usageNeeds maps key type → usage → need. Verify needs the same as sign,
// encrypt as decrypt, wrap as unwrap, so either flag triggers the need.
var usageNeeds = map[string]map[string]need{
	"RSA": {
		"sign":    {"RSA sign/verify", pkcs11.CKF_SIGN, []uint{pkcs11.CKM_SHA256_RSA_PKCS, pkcs11.CKM_RSA_PKCS, pkcs11.CKM_SHA256_RSA_PKCS_PSS, pkcs11.CKM_RSA_PKCS_PSS}},
		"decrypt": {"RSA encrypt/decrypt", pkcs11.CKF_DECRYPT, []uint{pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.CKM_RSA_PKCS}},
		"unwrap":  {"RSA wrap/unwrap", pkcs11.CKF_UNWRAP, []uint{pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.CKM_RSA_PKCS}},
	},
	"EC": {
		"sign":   {"ECDSA sign/verify", pkcs11.CKF_SIGN, []uint{pkcs11.CKM_ECDSA, pkcs11.CKM_ECDSA_SHA256}},
		"derive": {"ECDH derive", pkcs11.CKF_DERIVE, []uint{pkcs11.CKM_ECDH1_DERIVE}},
	},
	"EC_EDWARDS": {
		"sign": {"EdDSA sign/verify", pkcs11.CKF_SIGN, []uint{ck.CKM_EDDSA}},
	},
	"AES": {
		"decrypt": {"AES encrypt/decrypt", pkcs11.CKF_DECRYPT, []uint{pkcs11.CKM_AES_CBC_PAD, pkcs11.CKM_AES_GCM, pkcs11.CKM_AES_CBC, pkcs11.CKM_AES_CTR, pkcs11.CKM_AES_ECB}},
		"sign":    {"AES MAC", pkcs11.CKF_SIGN, []uint{pkcs11.CKM_AES_CMAC}},
		"unwrap":  {"AES key wrap", pkcs11.CKF_UNWRAP, []uint{pkcs11.CKM_AES_KEY_WRAP_PAD, pkcs11.CKM_AES_KEY_WRAP}},
	},
	"GENERIC_SECRET": {
		"sign": {"HMAC sign/verify", pkcs11.CKF_SIGN, []uint{pkcs11.CKM_SHA256_HMAC, pkcs11.CKM_SHA384_HMAC, pkcs11.CKM_SHA512_HMAC, pkcs11.CKM_SHA_1_HMAC}},
	},
}

// transportNeed is what moving a "wrap" key needs on the target.
var transportNeed = need{"unwrap (transport of wrapped keys)", pkcs11.CKF_UNWRAP, []uint{pkcs11.CKM_AES_KEY_WRAP_PAD, pkcs11.CKM_AES_KEY_WRAP}}

// needsOf lists the needs of one record.
func needsOf(r Record) []need {
	var out []need
	if r.Class != ClassPrivateKey && r.Class != ClassPublicKey && r.Class != ClassSecretKey {
		return nil
	}
	byUsage := usageNeeds[r.KeyType]
	for usage, flags := range map[string][]*bool{
		"sign": {r.Sign, r.Verify}, "decrypt": {r.Decrypt, r.Encrypt},
		"unwrap": {r.Unwrap, r.Wrap}, "derive": {r.Derive},
	} {
		n, ok := byUsage[usage]
		if ok && (Is(flags[0]) || len(flags) > 1 && Is(flags[1])) {
			out = append(out, n)
		}
	}
	switch r.Disposition {
	case Wrap:
		out = append(out, transportNeed)
	case Regenerate:
		if r.Class == ClassPublicKey {
			break // a pair is generated once, counted by its private half
		}
		if kt, ok := keyTypeByName(r.KeyType); ok {
			if g, ok := genMechs[kt]; ok {
				flag := uint(pkcs11.CKF_GENERATE_KEY_PAIR)
				if r.Class == ClassSecretKey {
					flag = pkcs11.CKF_GENERATE
				}
				out = append(out, need{"generate " + r.KeyType + " (regenerate)", flag, []uint{g}})
			}
		}
	}
	return out
}

// needs aggregates the needs of all records and checks them against dst.
func needs(inv *Inventory, dst mechSet) ([]Need, []string) {
	agg := map[string]*Need{}
	for _, r := range inv.Records {
		for _, n := range needsOf(r) {
			k := n.purpose
			e := agg[k]
			if e == nil {
				e = &Need{Purpose: n.purpose, Mechanism: ck.MechName(n.mechs[0])}
				for _, m := range n.mechs[1:] {
					e.Alternatives = append(e.Alternatives, ck.MechName(m))
				}
				for _, m := range n.mechs {
					e.OnTarget = e.OnTarget || dst.has(m, n.flag)
				}
				agg[k] = e
			}
			e.Keys++
		}
	}
	var out []Need
	var missing []string
	for _, n := range agg {
		out = append(out, *n)
		if !n.OnTarget {
			missing = append(missing, n.Mechanism)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Purpose < out[j].Purpose })
	sort.Strings(missing)
	return out, dedupe(missing)
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
