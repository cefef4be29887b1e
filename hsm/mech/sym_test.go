package mech

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"runtime"
	"testing"
	"unsafe"

	"github.com/craton-co/craton/ck"
	"github.com/miekg/pkcs11"
)

// TestKW checks RFC 3394 §4.1-4.6 through Wrap/Unwrap of secret keys.
func TestKW(t *testing.T) {
	const (
		kek128 = "000102030405060708090a0b0c0d0e0f"
		kek192 = "000102030405060708090a0b0c0d0e0f1011121314151617"
		kek256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		key128 = "00112233445566778899aabbccddeeff"
		key192 = key128 + "0001020304050607"
		key256 = key128 + "000102030405060708090a0b0c0d0e0f"
	)
	for _, c := range []struct{ kek, key, out string }{
		{kek128, key128, "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"},
		{kek192, key128, "96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d"},
		{kek256, key128, "64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7"},
		{kek192, key192, "031d33264e15d33268f24ec260743edce1c6c7ddee725a936ba814915c6762d2"},
		{kek256, key192, "a8f9bc1612c68b3ff6e6f4fbe30e71e4769c8b80a32cb8958cd5d17d6b254da1"},
		{kek256, key256, "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21"},
	} {
		m := NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil)
		kek, target := aesKeyOf(t, c.kek), aesKeyOf(t, c.key)
		got, err := Wrap(m, kek, target)
		if err != nil || !bytes.Equal(got, hx(t, c.out)) {
			t.Fatalf("KW(%s, %s) = %x, %v", c.kek, c.key, got, err)
		}
		k, err := Unwrap(m, kek, got, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, 0)
		if err != nil || !bytes.Equal(k.Secret, target.Secret) {
			t.Fatalf("unwrap: %v", err)
		}
		got[3] ^= 1
		_, err = Unwrap(m, kek, got, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, 0)
		wantRV(t, err, pkcs11.CKR_WRAPPED_KEY_INVALID)
	}
	_, err := Wrap(NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil), aesKeyOf(t, kek128),
		newSecretKey(pkcs11.CKK_GENERIC_SECRET, make([]byte, 20)))
	wantRV(t, err, pkcs11.CKR_KEY_SIZE_RANGE)
}

// TestKWP checks the RFC 5649 §6 vectors with both mechanism codes.
func TestKWP(t *testing.T) {
	const kek = "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"
	for _, mech := range []uint{pkcs11.CKM_AES_KEY_WRAP_PAD, ck.CKM_AES_KEY_WRAP_KWP} {
		for _, c := range []struct{ key, out string }{
			{"c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
			{"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
		} {
			m := NewMechanism(mech, nil)
			target := newSecretKey(pkcs11.CKK_GENERIC_SECRET, hx(t, c.key))
			got, err := Wrap(m, aesKeyOf(t, kek), target)
			if err != nil || !bytes.Equal(got, hx(t, c.out)) {
				t.Fatalf("KWP(%s) = %x, %v", c.key, got, err)
			}
			k, err := Unwrap(m, aesKeyOf(t, kek), got, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, 0)
			if err != nil || !bytes.Equal(k.Secret, target.Secret) {
				t.Fatalf("unwrap: %v", err)
			}
			got[len(got)-1] ^= 1
			_, err = Unwrap(m, aesKeyOf(t, kek), got, pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, 0)
			wantRV(t, err, pkcs11.CKR_WRAPPED_KEY_INVALID)
		}
	}
}

// TestKWPRejectsBadMLIAndPadding builds blobs with a valid AIV but a wrong
// MLI or non-zero padding using the raw W function.
func TestKWPRejectsBadMLIAndPadding(t *testing.T) {
	block, _ := aes.NewCipher(make([]byte, 16))
	build := func(mli uint32, payload []byte) []byte {
		buf := make([]byte, 8+len(payload))
		copy(buf, kwpDefaultAIV[:])
		binary.BigEndian.PutUint32(buf[4:], mli)
		copy(buf[8:], payload)
		var a [8]byte
		copy(a[:], buf[:8])
		kwW(block, a, buf)
		return buf
	}
	p := bytes.Repeat([]byte{1}, 20)
	good := append(append([]byte(nil), p...), 0, 0, 0, 0)
	if out, err := kwpUnwrap(block, kwpDefaultAIV, build(20, good)); err != nil || !bytes.Equal(out, p) {
		t.Fatalf("well-formed blob: %v", err)
	}
	for name, blob := range map[string][]byte{
		"MLI too small": build(16, good),
		"MLI too large": build(25, good),
		"MLI huge":      build(1<<31+5, good),
		"non-zero pad":  build(20, append(append([]byte(nil), p...), 0, 0, 1, 0)),
	} {
		if _, err := kwpUnwrap(block, kwpDefaultAIV, blob); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCMAC checks the NIST SP 800-38B examples (AES-128 and AES-256).
func TestCMAC(t *testing.T) {
	msg := hx(t, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"+
		"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
	for _, c := range []struct {
		key  string
		n    int
		want string
	}{
		{"2b7e151628aed2a6abf7158809cf4f3c", 0, "bb1d6929e95937287fa37d129b756746"},
		{"2b7e151628aed2a6abf7158809cf4f3c", 16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{"2b7e151628aed2a6abf7158809cf4f3c", 40, "dfa66747de9ae63030ca32611497c827"},
		{"2b7e151628aed2a6abf7158809cf4f3c", 64, "51f0bebf7e3b9d92fc49741779363cfe"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", 0, "028962f61b7bf89efc6b551f4667d983"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", 16, "28a7023f452e8f82bd4bf28d8c37c35c"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", 40, "aaf3d8f1de5640c232f5b169b9c911e6"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", 64, "e1992190549f6ed5696a2c056c315410"},
	} {
		k, want := aesKeyOf(t, c.key), hx(t, c.want)
		m := NewMechanism(pkcs11.CKM_AES_CMAC, nil)
		if got := signOnce(t, m, k, msg[:c.n]); !bytes.Equal(got, want) {
			t.Errorf("CMAC(%d bytes) = %x", c.n, got)
		}
		// Multi-part in odd chunks must agree.
		for _, chunk := range []int{1, 7, 16, 17} {
			s, _ := NewSign(m, k)
			for i := 0; i < c.n; i += chunk {
				s.Update(msg[i:min(i+chunk, c.n)])
			}
			if got, _ := s.Final(); !bytes.Equal(got, want) {
				t.Errorf("CMAC(%d bytes, chunk %d) = %x", c.n, chunk, got)
			}
		}
		if err := verifyOnce(m, k, msg[:c.n], want); err != nil {
			t.Error(err)
		}
		g := NewMechanism(pkcs11.CKM_AES_CMAC_GENERAL, ulongBytes(8))
		if got := signOnce(t, g, k, msg[:c.n]); !bytes.Equal(got, want[:8]) {
			t.Errorf("CMAC_GENERAL = %x", got)
		}
	}
}

// gcmSpec is the GCM specification's test cases (McGrew & Viega).
var gcmSpecCases = []struct {
	name, key, iv, pt, aad, ct, tag string
}{
	{"TC2", "00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "",
		"0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
	{"TC3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255", "",
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
		"4d5c2af327cd64a62cf35abd2ba6fab4"},
	{"TC4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		"feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		"5bc94fbc3221a5db94fae95ae7121a47"},
	{"TC5 (64-bit IV)", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbad",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		"feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c742373806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
		"3612d2e79e3b0785561be14aaca2fccb"},
	{"TC14 (AES-256)", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
		"00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
	{"TC16 (AES-256)", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		"feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		"76fc6ece0f4e1768cddf8853bb2d551b"},
}

// gcmCStruct lays out a CK_GCM_PARAMS as a C caller would, pointing at
// iv and aad (heap memory kept alive by the caller).
func gcmCStruct(iv, aad []byte, tagBits int) []byte {
	b := make([]byte, gcmSize)
	ptr := func(p []byte) uint64 {
		if len(p) == 0 {
			return 0
		}
		return uint64(uintptr(unsafe.Pointer(&p[0])))
	}
	putUlong(b, 0, ptr(iv))
	putUlong(b, ptrSize, uint64(len(iv)))
	putUlong(b, ptrSize+ulongSize, uint64(8*len(iv)))
	putUlong(b, ptrSize+2*ulongSize, ptr(aad))
	putUlong(b, 2*ptrSize+2*ulongSize, uint64(len(aad)))
	putUlong(b, 2*ptrSize+3*ulongSize, uint64(tagBits))
	return b
}

// TestGCM runs the spec vectors with the parameter in each of its forms:
// miekg's GCMParams object, C struct bytes, and the Go GCMParams.
func TestGCM(t *testing.T) {
	for _, c := range gcmSpecCases {
		iv, aad := hx(t, c.iv), hx(t, c.aad)
		want := append(hx(t, c.ct), hx(t, c.tag)...)
		cbytes := gcmCStruct(iv, aad, 128)
		for form, m := range map[string]*pkcs11.Mechanism{
			"miekg":   pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, pkcs11.NewGCMParams(iv, aad, 128)),
			"cstruct": pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, cbytes),
			"go":      NewMechanism(pkcs11.CKM_AES_GCM, GCMParams{IV: iv, AAD: aad, TagBits: 128}),
		} {
			k := aesKeyOf(t, c.key)
			if got := encrypt(t, m, k, nil, hx(t, c.pt)); !bytes.Equal(got, want) {
				t.Errorf("%s %s: %x", c.name, form, got)
			}
			pt, err := decrypt(m, k, want)
			if err != nil || !bytes.Equal(pt, hx(t, c.pt)) {
				t.Errorf("%s %s decrypt: %v", c.name, form, err)
			}
			bad := append([]byte(nil), want...)
			bad[0] ^= 1
			_, err = decrypt(m, k, bad)
			wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_INVALID)
		}
		runtime.KeepAlive(iv)
		runtime.KeepAlive(aad)
		// Truncated tags: the first 12 bytes of the full tag, also with
		// the 64-bit IV where Go cannot do it natively.
		m := NewMechanism(pkcs11.CKM_AES_GCM, GCMParams{IV: iv, AAD: aad, TagBits: 96})
		k := aesKeyOf(t, c.key)
		short := want[:len(want)-4]
		if got := encrypt(t, m, k, nil, hx(t, c.pt)); !bytes.Equal(got, short) {
			t.Errorf("%s 96-bit tag: %x", c.name, got)
		}
		if pt, err := decrypt(m, k, short); err != nil || !bytes.Equal(pt, hx(t, c.pt)) {
			t.Errorf("%s 96-bit tag decrypt: %v", c.name, err)
		}
		short = append([]byte(nil), short...)
		short[len(short)-1] ^= 1
		_, err := decrypt(m, k, short)
		wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_INVALID)
	}
}

func TestGCMCratonMode(t *testing.T) {
	k := newSecretKey(pkcs11.CKK_AES, bytes.Repeat([]byte{7}, 16))
	var ctr uint64
	nonces := counterNonces(&ctr)
	m := NewMechanism(pkcs11.CKM_AES_GCM, nil)
	op, _ := NewEncrypt(m, k, nonces)
	if op.OutLen(100, true) != 128 || ctr != 0 {
		t.Fatal("size query wrong or consumed a nonce")
	}
	pt := []byte("hello craton")
	ct := encrypt(t, m, k, nonces, pt)
	if ctr != 1 || ct[11] != 1 || len(ct) != len(pt)+28 {
		t.Fatalf("layout: %x", ct)
	}
	// It is plain GCM with the leading nonce.
	block, _ := aes.NewCipher(k.Secret)
	g, _ := cipher.NewGCM(block)
	if want := g.Seal(nil, ct[:12], pt, nil); !bytes.Equal(want, ct[12:]) {
		t.Fatal("not standard GCM")
	}
	if got, err := decrypt(m, k, ct); err != nil || !bytes.Equal(got, pt) {
		t.Fatal(err)
	}
	_, err := decrypt(m, k, ct[:27])
	wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE)
	_, err = NewEncrypt(m, k, nil)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
	_, err = NewEncrypt(NewMechanism(pkcs11.CKM_AES_GCM, GCMParams{IV: make([]byte, 12), TagBits: 64}), k, nil)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
}

// TestCBCAndCTR compares multi-part CBC, CBC_PAD and CTR with crypto/cipher.
func TestCBCAndCTR(t *testing.T) {
	key := bytes.Repeat([]byte{0x11}, 32)
	k := newSecretKey(pkcs11.CKK_AES, key)
	iv := bytes.Repeat([]byte{0x22}, 16)
	block, _ := aes.NewCipher(key)
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 100} {
		pt := bytes.Repeat([]byte{0x33}, n)
		padded := pkcs7Pad(pt)
		wantPad := make([]byte, len(padded))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(wantPad, padded)
		wantCTR := make([]byte, n)
		cipher.NewCTR(block, iv).XORKeyStream(wantCTR, pt)
		cases := []struct {
			m    *pkcs11.Mechanism
			want []byte
		}{
			{NewMechanism(pkcs11.CKM_AES_CBC_PAD, iv), wantPad},
			{NewMechanism(pkcs11.CKM_AES_CTR, CTRParams{CounterBits: 128, CB: [16]byte(iv)}), wantCTR},
		}
		if n%16 == 0 {
			cases = append(cases, struct {
				m    *pkcs11.Mechanism
				want []byte
			}{NewMechanism(pkcs11.CKM_AES_CBC, iv), wantPad[:n]})
		}
		for _, c := range cases {
			for _, chunk := range []int{1, 5, 16, 1000} {
				got := multiPart(t, c.m, k, false, pt, chunk)
				if !bytes.Equal(got, c.want) {
					t.Fatalf("%#x n=%d chunk=%d: %x", c.m.Mechanism, n, chunk, got)
				}
				if back := multiPart(t, c.m, k, true, got, chunk); !bytes.Equal(back, pt) {
					t.Fatalf("%#x n=%d chunk=%d decrypt: %x", c.m.Mechanism, n, chunk, back)
				}
			}
		}
	}
	_, err := decrypt(NewMechanism(pkcs11.CKM_AES_CBC, iv), k, make([]byte, 17))
	wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE)
	bad := make([]byte, 16) // decrypts to garbage padding
	_, err = decrypt(NewMechanism(pkcs11.CKM_AES_CBC_PAD, iv), k, bad)
	wantRV(t, err, pkcs11.CKR_ENCRYPTED_DATA_INVALID)
}

// multiPart runs a cipher in chunks, checking OutLen before each call.
func multiPart(t *testing.T, m *pkcs11.Mechanism, k *Key, dec bool, in []byte, chunk int) []byte {
	t.Helper()
	var op CipherOp
	var err error
	if dec {
		op, err = NewDecrypt(m, k)
	} else {
		op, err = NewEncrypt(m, k, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for i := 0; i < len(in); i += chunk {
		p := in[i:min(i+chunk, len(in))]
		n := op.OutLen(len(p), false)
		o, err := op.Update(p)
		if err != nil || len(o) != n {
			t.Fatalf("update: %d bytes, OutLen %d, %v", len(o), n, err)
		}
		out = append(out, o...)
	}
	n := op.OutLen(0, true)
	o, err := op.Final()
	if err != nil || len(o) > n || !dec && len(o) != n {
		t.Fatalf("final: %d bytes, OutLen %d, %v", len(o), n, err)
	}
	return append(out, o...)
}

// TestCTRCounterBits checks that only the low counter bits change, with
// wrap-around, and that keystream reuse is refused.
func TestCTRCounterBits(t *testing.T) {
	key := bytes.Repeat([]byte{0x44}, 16)
	k := newSecretKey(pkcs11.CKK_AES, key)
	cb := [16]byte{15: 0xfe}
	cb[14] = 0xab // above the 8 counter bits: must stay
	m := NewMechanism(pkcs11.CKM_AES_CTR, CTRParams{CounterBits: 8, CB: cb})
	pt := make([]byte, 3*16)
	got := encrypt(t, m, k, nil, pt)
	block, _ := aes.NewCipher(key)
	for i, low := range []byte{0xfe, 0xff, 0x00} {
		ctr := cb
		ctr[15] = low
		var ks [16]byte
		block.Encrypt(ks[:], ctr[:])
		if !bytes.Equal(got[16*i:16*i+16], ks[:]) {
			t.Fatalf("block %d: counter not %x", i, ctr)
		}
	}
	// 256 blocks are available with 8 bits, 257 would repeat the first.
	op, _ := NewEncrypt(m, k, nil)
	if _, err := op.Update(make([]byte, 256*16)); err != nil {
		t.Fatal(err)
	}
	_, err := op.Update(make([]byte, 1))
	wantRV(t, err, pkcs11.CKR_DATA_LEN_RANGE)
	_, err = NewEncrypt(NewMechanism(pkcs11.CKM_AES_CTR, CTRParams{CounterBits: 0}), k, nil)
	wantRV(t, err, pkcs11.CKR_MECHANISM_PARAM_INVALID)
}
