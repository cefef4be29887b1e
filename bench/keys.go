package main

import (
	"bytes"
	"fmt"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

var (
	oidP256    = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidEd25519 = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}
)

// keySet is the token objects the single-operation rows use, found by
// label (created once per store; the engine's two configurations share the
// store).
type keySet struct {
	rsaPub, rsaPriv pkcs11.ObjectHandle
	ecPub, ecPriv   pkcs11.ObjectHandle
	edPub, edPriv   pkcs11.ObjectHandle
	aes, hmac, kek  pkcs11.ObjectHandle
}

func attr(t uint, v any) *pkcs11.Attribute { return pkcs11.NewAttribute(t, v) }

func findOne(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) (pkcs11.ObjectHandle, bool, error) {
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		return 0, false, err
	}
	hs, _, err := ctx.FindObjects(sh, 2)
	if ferr := ctx.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	if err != nil || len(hs) == 0 {
		return 0, false, err
	}
	return hs[0], true, nil
}

func byLabel(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, class uint, label string) (pkcs11.ObjectHandle, bool, error) {
	return findOne(ctx, sh, []*pkcs11.Attribute{attr(pkcs11.CKA_CLASS, class), attr(pkcs11.CKA_LABEL, label)})
}

// ensureKeys finds the bench keys on the logged-in session's token and
// creates those that are missing (token objects).
func ensureKeys(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) (keySet, error) {
	var k keySet
	pair := func(label string, mech uint, pubT, privT []*pkcs11.Attribute, pub, priv *pkcs11.ObjectHandle) error {
		h, ok, err := byLabel(ctx, sh, pkcs11.CKO_PRIVATE_KEY, label)
		if err != nil {
			return err
		}
		if ok {
			*priv = h
			*pub, ok, err = byLabel(ctx, sh, pkcs11.CKO_PUBLIC_KEY, label)
			if err == nil && !ok {
				err = fmt.Errorf("public key %q missing", label)
			}
			return err
		}
		pubT = append(pubT, attr(pkcs11.CKA_TOKEN, true), attr(pkcs11.CKA_LABEL, label), attr(pkcs11.CKA_VERIFY, true))
		privT = append(privT, attr(pkcs11.CKA_TOKEN, true), attr(pkcs11.CKA_LABEL, label), attr(pkcs11.CKA_SIGN, true),
			attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true), attr(pkcs11.CKA_EXTRACTABLE, true))
		*pub, *priv, err = ctx.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubT, privT)
		if err != nil {
			return fmt.Errorf("generate %s: %w", label, err)
		}
		return nil
	}
	secret := func(label string, keyType uint, value []byte, usage []uint, out *pkcs11.ObjectHandle) error {
		h, ok, err := byLabel(ctx, sh, pkcs11.CKO_SECRET_KEY, label)
		if err != nil || ok {
			*out = h
			return err
		}
		t := []*pkcs11.Attribute{attr(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY), attr(pkcs11.CKA_KEY_TYPE, keyType),
			attr(pkcs11.CKA_TOKEN, true), attr(pkcs11.CKA_LABEL, label), attr(pkcs11.CKA_VALUE, value),
			attr(pkcs11.CKA_PRIVATE, true), attr(pkcs11.CKA_SENSITIVE, true)}
		for _, u := range usage {
			t = append(t, attr(u, true))
		}
		*out, err = ctx.CreateObject(sh, t)
		if err != nil {
			return fmt.Errorf("create %s: %w", label, err)
		}
		return nil
	}
	steps := []func() error{
		func() error {
			return pair("bench-rsa", pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN,
				[]*pkcs11.Attribute{attr(pkcs11.CKA_MODULUS_BITS, 2048), attr(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1})}, nil, &k.rsaPub, &k.rsaPriv)
		},
		func() error {
			return pair("bench-ec", pkcs11.CKM_EC_KEY_PAIR_GEN, []*pkcs11.Attribute{attr(pkcs11.CKA_EC_PARAMS, oidP256)}, nil, &k.ecPub, &k.ecPriv)
		},
		func() error {
			return pair("bench-ed", ck.CKM_EC_EDWARDS_KEY_PAIR_GEN, []*pkcs11.Attribute{attr(pkcs11.CKA_EC_PARAMS, oidEd25519)}, nil, &k.edPub, &k.edPriv)
		},
		func() error {
			return secret("bench-aes", pkcs11.CKK_AES, bytes.Repeat([]byte{0x11}, 32), []uint{pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT}, &k.aes)
		},
		func() error {
			return secret("bench-hmac", pkcs11.CKK_GENERIC_SECRET, bytes.Repeat([]byte{0x22}, 32), []uint{pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY}, &k.hmac)
		},
		func() error {
			return secret("bench-kek", pkcs11.CKK_AES, bytes.Repeat([]byte{0x33}, 32), []uint{pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP}, &k.kek)
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return k, err
		}
	}
	return k, nil
}

// populateFind fills a token with n public data objects obj-00000…
// (skipping those already there).
func populateFind(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, n int) error {
	if _, ok, err := byLabel(ctx, sh, pkcs11.CKO_DATA, fmt.Sprintf("obj-%05d", n-1)); err != nil || ok {
		return err
	}
	for i := 0; i < n; i++ {
		_, err := ctx.CreateObject(sh, []*pkcs11.Attribute{attr(pkcs11.CKA_CLASS, pkcs11.CKO_DATA), attr(pkcs11.CKA_TOKEN, true),
			attr(pkcs11.CKA_PRIVATE, false), attr(pkcs11.CKA_LABEL, fmt.Sprintf("obj-%05d", i)),
			attr(pkcs11.CKA_APPLICATION, "bench"), attr(pkcs11.CKA_VALUE, []byte(fmt.Sprintf("value-%05d", i)))})
		if err != nil {
			return fmt.Errorf("create data object %d: %w", i, err)
		}
	}
	return nil
}
