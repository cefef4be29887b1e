package hsm

import (
	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/hsm/mech"
	"github.com/miekg/pkcs11"
)

// WrapKey wraps key under wrappingkey. The wrapping key needs CKA_WRAP; the
// target must be extractable (CKR_KEY_UNEXTRACTABLE, reference "differ"
// item 6), and a target with CKA_WRAP_WITH_TRUSTED needs a CKA_TRUSTED
// wrapping key (CKR_KEY_NOT_WRAPPABLE). In FIPS mode a 16-byte AES wrapping key is
// CKR_WRAPPING_KEY_SIZE_RANGE (fipsWrappingKey; C_UnwrapKey likewise).
func (c *Ctx) WrapKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, wrappingkey, key pkcs11.ObjectHandle) ([]byte, error) {
	mm, err := c.mechanism(m)
	if err != nil {
		return nil, err
	}
	out, err := c.wrapKey(sh, mm, wrappingkey, key)
	return out, c.audited(evMech("WrapKey", sh, mm.Mechanism), err)
}

func (c *Ctx) wrapKey(sh pkcs11.SessionHandle, mm *pkcs11.Mechanism, wrappingkey, key pkcs11.ObjectHandle) ([]byte, error) {
	s, err := c.sessionOnly(sh)
	if err != nil {
		return nil, err
	}
	wo, wk, _, err := c.opKey(s, wrappingkey, pkcs11.CKA_WRAP)
	if rvOf(err) == pkcs11.CKR_KEY_HANDLE_INVALID {
		return nil, rvErr(pkcs11.CKR_WRAPPING_KEY_HANDLE_INVALID)
	} else if err != nil {
		return nil, err
	}
	if err := c.fipsWrappingKey(wk, pkcs11.CKR_WRAPPING_KEY_SIZE_RANGE); err != nil {
		return nil, err
	}
	target, wrapAttrs, err := c.wrapTarget(s, wo, key)
	if err != nil {
		return nil, err
	}
	tk, err := target.parsedKey(wrapAttrs)
	if err != nil {
		return nil, err
	}
	out, err := mech.Wrap(mm, wk, tk)
	return out, asRV(err)
}

// wrapTarget resolves and checks the key to be wrapped.
func (c *Ctx) wrapTarget(s *session, wrapping *object, key pkcs11.ObjectHandle) (*object, attrList, error) {
	if err := c.rlock(); err != nil {
		return nil, nil, err
	}
	defer c.mu.RUnlock()
	o, err := c.objectFor(s, key)
	if err != nil || !isKeyClass(o.class()) {
		return nil, nil, errKeyHandle
	}
	switch {
	case !o.attrs.bool(pkcs11.CKA_EXTRACTABLE):
		return nil, nil, rvErr(pkcs11.CKR_KEY_UNEXTRACTABLE)
	case o.attrs.bool(pkcs11.CKA_WRAP_WITH_TRUSTED) && !wrapping.attrs.bool(pkcs11.CKA_TRUSTED):
		return nil, nil, rvErr(pkcs11.CKR_KEY_NOT_WRAPPABLE)
	case o.mat != matLoaded:
		return nil, nil, o.materialErr()
	}
	return o, o.attrs, nil
}

// UnwrapKey unwraps a key into a new object of the class and key type the
// template names (reference "differ" item 4). CKA_VALUE_LEN in the
// template trims a secret (SoftHSMv2 zero-pads wrapped secrets). The new
// key is not local, never always-sensitive or never-extractable.
func (c *Ctx) UnwrapKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, unwrappingkey pkcs11.ObjectHandle, wrappedkey []byte, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	mm, err := c.mechanism(m)
	if err != nil {
		return 0, err
	}
	h, err := c.unwrapKey(sh, mm, unwrappingkey, wrappedkey, a)
	return h, c.audited(evMech("UnwrapKey", sh, mm.Mechanism), err)
}

func (c *Ctx) unwrapKey(sh pkcs11.SessionHandle, mm *pkcs11.Mechanism, unwrappingkey pkcs11.ObjectHandle, blob []byte, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	s, isSO, err := c.sessionRole(sh)
	if err != nil {
		return 0, err
	}
	tm, err := parseTemplate(a)
	if err != nil {
		return 0, err
	}
	class, kt, err := classAndType(tm)
	if err != nil {
		return 0, err
	}
	if !isKeyClass(class) || class == pkcs11.CKO_PUBLIC_KEY {
		return 0, errTmplInconsistent
	}
	if err := checkNewTemplate(opUnwrap, tm, class, kt, isSO); err != nil {
		return 0, err
	}
	_, uk, _, err := c.opKey(s, unwrappingkey, pkcs11.CKA_UNWRAP)
	if rvOf(err) == pkcs11.CKR_KEY_HANDLE_INVALID {
		return 0, rvErr(pkcs11.CKR_UNWRAPPING_KEY_HANDLE_INVALID)
	} else if err != nil {
		return 0, err
	}
	if err := c.fipsWrappingKey(uk, pkcs11.CKR_UNWRAPPING_KEY_SIZE_RANGE); err != nil {
		return 0, err
	}
	var k *mech.Key
	if mech.IsPQKeyType(kt) {
		k, err = mech.UnwrapPQ(mm, uk, blob, kt, tm.ulong(ck.CKA_PARAMETER_SET))
	} else {
		k, err = mech.Unwrap(mm, uk, blob, class, kt, int(tm.ulong(pkcs11.CKA_VALUE_LEN)))
	}
	if err != nil {
		return 0, asRV(err)
	}
	material := keyMaterial(k)
	if class == pkcs11.CKO_SECRET_KEY {
		material = secretMaterial(k)
	}
	attrs, err := newKeyAttrs(opUnwrap, tm, class, kt, isSO, material)
	if err != nil {
		return 0, err
	}
	keyOrigin(attrs, false, 0)
	finishKey(attrs)
	return c.publishKeys(s, k, attrs)
}
