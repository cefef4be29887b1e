package hsm

import (
	"github.com/craton-co/craton/hsm/mech"
	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// opKey resolves the key of a *Init call: visible to s (else
// CKR_KEY_HANDLE_INVALID), with the usage attribute set (else
// CKR_KEY_FUNCTION_NOT_PERMITTED), with its material loaded (else
// CKR_USER_NOT_LOGGED_IN, or CKR_GENERAL_ERROR for a damaged material
// record); the parsed key is cached on the object.
func (c *Ctx) opKey(s *session, oh pkcs11.ObjectHandle, usage uint) (*object, *mech.Key, *store.Store, error) {
	if err := c.rlock(); err != nil {
		return nil, nil, nil, err
	}
	o, err := c.objectFor(s, oh)
	var attrs attrList
	var matErr error
	if err == nil {
		attrs, matErr = o.attrs, o.materialErr()
	}
	st := c.st
	c.mu.RUnlock()
	switch {
	case err != nil:
		return nil, nil, nil, errKeyHandle
	case !isKeyClass(attrs.ulong(pkcs11.CKA_CLASS)):
		return nil, nil, nil, errKeyHandle
	case !attrs.bool(usage):
		return nil, nil, nil, errFuncNotPermitted
	case matErr != nil:
		// A CKA_PRIVATE=false key loaded before any login has no
		// material yet (CKR_USER_NOT_LOGGED_IN).
		return nil, nil, nil, matErr
	}
	k, err := o.parsedKey(attrs)
	return o, k, st, err
}

// keyedInit starts an encrypt/decrypt/sign/verify operation and audits a
// failure to start.
func (c *Ctx) keyedInit(sh pkcs11.SessionHandle, kind opKind, audit string, m []*pkcs11.Mechanism, oh pkcs11.ObjectHandle,
	usage uint, start func(mm *pkcs11.Mechanism, o *object, k *mech.Key, st *store.Store, op *activeOp) error) error {
	mm, err := c.mechanism(m)
	if err != nil {
		return err
	}
	err = c.beginOp(sh, kind, func(s *session) (*activeOp, error) {
		o, k, st, err := c.opKey(s, oh, usage)
		if err != nil {
			return nil, err
		}
		if err := c.fipsKeyUse(mm.Mechanism, k); err != nil {
			return nil, err
		}
		op := &activeOp{mech: mm.Mechanism}
		return op, asRV(start(mm, o, k, st, op))
	})
	if err != nil && rvOf(err) != pkcs11.CKR_OPERATION_ACTIVE {
		return c.audited(evMech(audit, sh, mm.Mechanism), err)
	}
	return err
}

// fipsAESGCMKeyLen is the only AES key length (bytes) CKM_AES_GCM takes
// in FIPS mode (AES-256; Craton's rule, reference §1.1, §3).
const fipsAESGCMKeyLen = 32

// fipsKeyUse applies FIPS mode's key-size rule for using key k with
// mechanism m in a *Init: CKM_AES_GCM with an AES key other than 32 bytes
// is CKR_KEY_SIZE_RANGE. Outside FIPS mode it passes everything; keys
// that are not AES are left to mech (CKR_KEY_TYPE_INCONSISTENT).
func (c *Ctx) fipsKeyUse(m uint, k *mech.Key) error {
	if c.set.FIPSOnly && m == pkcs11.CKM_AES_GCM && k != nil && k.Class == pkcs11.CKO_SECRET_KEY &&
		k.KeyType == pkcs11.CKK_AES && len(k.Secret) != fipsAESGCMKeyLen {
		return rvErr(pkcs11.CKR_KEY_SIZE_RANGE)
	}
	return nil
}

// EncryptInit starts an encryption. AES-GCM without parameters draws
// nonces from the key's durable counter (see nonceState).
func (c *Ctx) EncryptInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	return c.keyedInit(sh, opEncrypt, "Encrypt", m, o, pkcs11.CKA_ENCRYPT,
		func(mm *pkcs11.Mechanism, o *object, k *mech.Key, st *store.Store, op *activeOp) (err error) {
			op.cipher, err = mech.NewEncrypt(mm, k, o.nonces.source(st))
			return err
		})
}

// DecryptInit starts a decryption.
func (c *Ctx) DecryptInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	return c.keyedInit(sh, opDecrypt, "Decrypt", m, o, pkcs11.CKA_DECRYPT,
		func(mm *pkcs11.Mechanism, _ *object, k *mech.Key, _ *store.Store, op *activeOp) (err error) {
			op.cipher, err = mech.NewDecrypt(mm, k)
			return err
		})
}

// SignInit starts a signature or MAC.
func (c *Ctx) SignInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	return c.keyedInit(sh, opSign, "Sign", m, o, pkcs11.CKA_SIGN,
		func(mm *pkcs11.Mechanism, _ *object, k *mech.Key, _ *store.Store, op *activeOp) (err error) {
			op.sign, err = mech.NewSign(mm, k)
			return err
		})
}

// VerifyInit starts a verification.
func (c *Ctx) VerifyInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, key pkcs11.ObjectHandle) error {
	return c.keyedInit(sh, opVerify, "Verify", m, key, pkcs11.CKA_VERIFY,
		func(mm *pkcs11.Mechanism, _ *object, k *mech.Key, _ *store.Store, op *activeOp) (err error) {
			op.verify, err = mech.NewVerify(mm, k)
			return err
		})
}

// DigestInit starts a digest.
func (c *Ctx) DigestInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism) error {
	mm, err := c.mechanism(m)
	if err != nil {
		return err
	}
	return c.beginOp(sh, opDigest, func(*session) (*activeOp, error) {
		d, err := mech.NewDigest(mm)
		return &activeOp{mech: mm.Mechanism, digest: d}, asRV(err)
	})
}

// finish runs the last step of an operation and audits it.
// notAudited marks keyless operations (digests) that write no audit entry:
// they touch no key, Craton's library does not audit them either, and an
// fsynced entry per hash made C_Digest some 60 times slower (docs/benchmarks.md).
const notAudited = ""

func (c *Ctx) finish(sh pkcs11.SessionHandle, kind opKind, audit string, fn func(op *activeOp) error) error {
	var mt uint
	err := c.withOp(sh, kind, func(op *activeOp) (bool, error) {
		mt = op.mech
		return true, asRV(fn(op))
	})
	if rv := rvOf(err); audit == "" || rv == pkcs11.CKR_OPERATION_NOT_INITIALIZED || rv == pkcs11.CKR_OPERATION_ACTIVE || rv == pkcs11.CKR_SESSION_HANDLE_INVALID {
		return err
	}
	return c.audited(evMech(audit, sh, mt), err)
}

// step runs a multi-part Update.
func (c *Ctx) step(sh pkcs11.SessionHandle, kind opKind, fn func(op *activeOp) error) error {
	return c.withOp(sh, kind, func(op *activeOp) (bool, error) {
		op.multi = true
		return false, asRV(fn(op))
	})
}

// singlePart guards a single-part call (C_Encrypt, C_Decrypt, C_Sign,
// C_Verify, C_Digest): after an Update of the same operation it is refused
// with CKR_OPERATION_ACTIVE and the multi-part operation goes on (PKCS#11:
// the single-part call "must be called after C_SignInit without intervening
// C_SignUpdate calls"). Without the guard it ran over the updated parts
// plus its own input and returned CKR_OK.
func singlePart(fn func(op *activeOp) error) func(op *activeOp) error {
	return func(op *activeOp) error {
		if op.multi {
			return errOpActive
		}
		return fn(op)
	}
}

// cipherAll runs a single-part C_Encrypt / C_Decrypt. Ciphers that can
// work on the caller's input directly (AES-GCM) do; the others take it
// through Update and Final.
func cipherAll(op *activeOp, in []byte) ([]byte, error) {
	if sp, ok := op.cipher.(mech.SinglePart); ok {
		return sp.Once(in)
	}
	a, err := op.cipher.Update(in)
	if err != nil {
		return nil, err
	}
	b, err := op.cipher.Final()
	if len(a) == 0 && b != nil {
		return b, err // single-part ciphers buffer everything: no copy
	}
	return append(a, b...), err
}

// Encrypt encrypts in one call.
func (c *Ctx) Encrypt(sh pkcs11.SessionHandle, message []byte) (out []byte, err error) {
	err = c.finish(sh, opEncrypt, "Encrypt", singlePart(func(op *activeOp) (e error) { out, e = cipherAll(op, message); return }))
	return out, err
}

// EncryptUpdate continues a multi-part encryption.
func (c *Ctx) EncryptUpdate(sh pkcs11.SessionHandle, plain []byte) (out []byte, err error) {
	err = c.step(sh, opEncrypt, func(op *activeOp) (e error) { out, e = op.cipher.Update(plain); return })
	return out, err
}

// EncryptFinal ends a multi-part encryption.
func (c *Ctx) EncryptFinal(sh pkcs11.SessionHandle) (out []byte, err error) {
	err = c.finish(sh, opEncrypt, "Encrypt", func(op *activeOp) (e error) { out, e = op.cipher.Final(); return })
	return out, err
}

// Decrypt decrypts in one call.
func (c *Ctx) Decrypt(sh pkcs11.SessionHandle, cipher []byte) (out []byte, err error) {
	err = c.finish(sh, opDecrypt, "Decrypt", singlePart(func(op *activeOp) (e error) { out, e = cipherAll(op, cipher); return }))
	return out, err
}

// DecryptUpdate continues a multi-part decryption.
func (c *Ctx) DecryptUpdate(sh pkcs11.SessionHandle, cipher []byte) (out []byte, err error) {
	err = c.step(sh, opDecrypt, func(op *activeOp) (e error) { out, e = op.cipher.Update(cipher); return })
	return out, err
}

// DecryptFinal ends a multi-part decryption.
func (c *Ctx) DecryptFinal(sh pkcs11.SessionHandle) (out []byte, err error) {
	err = c.finish(sh, opDecrypt, "Decrypt", func(op *activeOp) (e error) { out, e = op.cipher.Final(); return })
	return out, err
}

// Sign signs in one call.
func (c *Ctx) Sign(sh pkcs11.SessionHandle, message []byte) (sig []byte, err error) {
	err = c.finish(sh, opSign, "Sign", singlePart(func(op *activeOp) error {
		if err := op.sign.Update(message); err != nil {
			return err
		}
		var e error
		sig, e = op.sign.Final()
		return e
	}))
	return sig, err
}

// SignUpdate continues a multi-part signature.
func (c *Ctx) SignUpdate(sh pkcs11.SessionHandle, message []byte) error {
	return c.step(sh, opSign, func(op *activeOp) error { return op.sign.Update(message) })
}

// SignFinal ends a multi-part signature.
func (c *Ctx) SignFinal(sh pkcs11.SessionHandle) (sig []byte, err error) {
	err = c.finish(sh, opSign, "Sign", func(op *activeOp) (e error) { sig, e = op.sign.Final(); return })
	return sig, err
}

// Verify verifies in one call (CKR_SIGNATURE_INVALID on mismatch).
func (c *Ctx) Verify(sh pkcs11.SessionHandle, data []byte, signature []byte) error {
	return c.finish(sh, opVerify, "Verify", singlePart(func(op *activeOp) error {
		if err := op.verify.Update(data); err != nil {
			return err
		}
		return op.verify.Final(signature)
	}))
}

// VerifyUpdate continues a multi-part verification.
func (c *Ctx) VerifyUpdate(sh pkcs11.SessionHandle, part []byte) error {
	return c.step(sh, opVerify, func(op *activeOp) error { return op.verify.Update(part) })
}

// VerifyFinal ends a multi-part verification.
func (c *Ctx) VerifyFinal(sh pkcs11.SessionHandle, signature []byte) error {
	return c.finish(sh, opVerify, "Verify", func(op *activeOp) error { return op.verify.Final(signature) })
}

// Digest digests in one call.
func (c *Ctx) Digest(sh pkcs11.SessionHandle, message []byte) (out []byte, err error) {
	err = c.finish(sh, opDigest, notAudited, singlePart(func(op *activeOp) error {
		if err := op.digest.Update(message); err != nil {
			return err
		}
		var e error
		out, e = op.digest.Final()
		return e
	}))
	return out, err
}

// DigestUpdate continues a multi-part digest.
func (c *Ctx) DigestUpdate(sh pkcs11.SessionHandle, message []byte) error {
	return c.step(sh, opDigest, func(op *activeOp) error { return op.digest.Update(message) })
}

// DigestFinal ends a multi-part digest.
func (c *Ctx) DigestFinal(sh pkcs11.SessionHandle) (out []byte, err error) {
	err = c.finish(sh, opDigest, notAudited, func(op *activeOp) (e error) { out, e = op.digest.Final(); return })
	return out, err
}

// Output sizes for the C layer's two-call idiom (a NULL buffer asks for
// the length without running the operation or consuming a nonce).

// SignatureLen is the signature length of the active sign operation.
func (c *Ctx) SignatureLen(sh pkcs11.SessionHandle) (n int, err error) {
	err = c.peek(sh, opSign, func(op *activeOp) { n = op.sign.Len() })
	return n, err
}

// DigestLen is the digest length of the active digest operation.
func (c *Ctx) DigestLen(sh pkcs11.SessionHandle) (n int, err error) {
	err = c.peek(sh, opDigest, func(op *activeOp) { n = op.digest.Len() })
	return n, err
}

// EncryptOutputLen bounds the output of the active encryption for inLen
// more input bytes (final: the call ends the operation).
func (c *Ctx) EncryptOutputLen(sh pkcs11.SessionHandle, inLen int, final bool) (n int, err error) {
	err = c.peek(sh, opEncrypt, func(op *activeOp) { n = op.cipher.OutLen(inLen, final) })
	return n, err
}

// DecryptOutputLen is EncryptOutputLen for decryption.
func (c *Ctx) DecryptOutputLen(sh pkcs11.SessionHandle, inLen int, final bool) (n int, err error) {
	err = c.peek(sh, opDecrypt, func(op *activeOp) { n = op.cipher.OutLen(inLen, final) })
	return n, err
}

func (c *Ctx) peek(sh pkcs11.SessionHandle, kind opKind, fn func(op *activeOp)) error {
	return c.withOp(sh, kind, func(op *activeOp) (bool, error) { fn(op); return false, nil })
}
