package mech

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/miekg/pkcs11"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantRV checks that err is the CK_RV want.
func wantRV(t testing.TB, err error, want uint) {
	t.Helper()
	var rv pkcs11.Error
	if !errors.As(err, &rv) || uint(rv) != want {
		t.Fatalf("got error %v, want CK_RV %#x", err, want)
	}
}

func signOnce(t testing.TB, m *pkcs11.Mechanism, k *Key, msg []byte) []byte {
	t.Helper()
	s, err := NewSign(m, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(msg); err != nil {
		t.Fatal(err)
	}
	sig, err := s.Final()
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != s.Len() {
		t.Fatalf("signature length %d, Len() %d", len(sig), s.Len())
	}
	return sig
}

func verifyOnce(m *pkcs11.Mechanism, k *Key, msg, sig []byte) error {
	v, err := NewVerify(m, k)
	if err != nil {
		return err
	}
	if err := v.Update(msg); err != nil {
		return err
	}
	return v.Final(sig)
}

func encrypt(t testing.TB, m *pkcs11.Mechanism, k *Key, nonces NonceSource, pt []byte) []byte {
	t.Helper()
	op, err := NewEncrypt(m, k, nonces)
	if err != nil {
		t.Fatal(err)
	}
	want := op.OutLen(len(pt), true)
	out, err := oneShotCipher(op, nil)(pt)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != want {
		t.Fatalf("output %d bytes, OutLen said %d", len(out), want)
	}
	return out
}

func decrypt(m *pkcs11.Mechanism, k *Key, ct []byte) ([]byte, error) {
	return oneShotCipher(NewDecrypt(m, k))(ct)
}

func aesKeyOf(t testing.TB, s string) *Key { return newSecretKey(pkcs11.CKK_AES, hx(t, s)) }

func TestDigests(t *testing.T) {
	msgs := map[string][]byte{"abc": []byte("abc"), "empty": nil,
		"448": []byte("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")}
	for _, c := range []struct {
		mech     uint
		msg, out string
	}{
		{pkcs11.CKM_SHA_1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{pkcs11.CKM_SHA_1, "empty", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{pkcs11.CKM_SHA_1, "448", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
		{pkcs11.CKM_SHA224, "abc", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
		{pkcs11.CKM_SHA224, "empty", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"},
		{pkcs11.CKM_SHA224, "448", "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525"},
		{pkcs11.CKM_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{pkcs11.CKM_SHA256, "empty", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{pkcs11.CKM_SHA256, "448", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{pkcs11.CKM_SHA384, "abc", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
		{pkcs11.CKM_SHA384, "empty", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"},
		{pkcs11.CKM_SHA384, "448", "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b"},
		{pkcs11.CKM_SHA512, "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		{pkcs11.CKM_SHA512, "empty", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
		{pkcs11.CKM_SHA512, "448", "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"},
		{pkcs11.CKM_SHA3_256, "abc", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
		{pkcs11.CKM_SHA3_256, "empty", "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"},
		{pkcs11.CKM_SHA3_256, "448", "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376"},
		{pkcs11.CKM_SHA3_384, "abc", "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"},
		{pkcs11.CKM_SHA3_384, "empty", "0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2ac3713831264adb47fb6bd1e058d5f004"},
		{pkcs11.CKM_SHA3_384, "448", "991c665755eb3a4b6bbdfb75c78a492e8c56a22c5c4d7e429bfdbc32b9d4ad5aa04a1f076e62fea19eef51acd0657c22"},
		{pkcs11.CKM_SHA3_512, "abc", "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"},
		{pkcs11.CKM_SHA3_512, "empty", "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26"},
		{pkcs11.CKM_SHA3_512, "448", "04a371e84ecfb5b8b77cb48610fca8182dd457ce6f326a0fd3d7ec2f1e91636dee691fbe0c985302ba1b0d8dc78c086346b533b49c030d99a27daf1139d6e75e"},
	} {
		d, err := NewDigest(NewMechanism(c.mech, nil))
		if err != nil {
			t.Fatal(err)
		}
		// Feed byte by byte half the time to exercise multi-part.
		for i, b := range msgs[c.msg] {
			if i%2 == 0 {
				d.Update([]byte{b})
			} else {
				d.Update(msgs[c.msg][i : i+1])
			}
		}
		got, _ := d.Final()
		if !bytes.Equal(got, hx(t, c.out)) || d.Len() != len(got) {
			t.Errorf("%#x(%s) = %x", c.mech, c.msg, got)
		}
	}
	_, err := NewDigest(NewMechanism(pkcs11.CKM_MD5, nil))
	wantRV(t, err, pkcs11.CKR_MECHANISM_INVALID)
}

// TestHMAC checks RFC 4231 test cases 1, 2, 3, 4, 6 and 7.
func TestHMAC(t *testing.T) {
	data := map[int][2][]byte{
		1: {bytes.Repeat([]byte{0x0b}, 20), []byte("Hi There")},
		2: {[]byte("Jefe"), []byte("what do ya want for nothing?")},
		3: {bytes.Repeat([]byte{0xaa}, 20), bytes.Repeat([]byte{0xdd}, 50)},
		4: {hexRange(1, 25), bytes.Repeat([]byte{0xcd}, 50)},
		6: {bytes.Repeat([]byte{0xaa}, 131), []byte("Test Using Larger Than Block-Size Key - Hash Key First")},
		7: {bytes.Repeat([]byte{0xaa}, 131), []byte("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.")},
	}
	for _, c := range []struct {
		tc   int
		mech uint
		mac  string
	}{
		{1, pkcs11.CKM_SHA256_HMAC, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{1, pkcs11.CKM_SHA384_HMAC, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{1, pkcs11.CKM_SHA512_HMAC, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{2, pkcs11.CKM_SHA256_HMAC, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{2, pkcs11.CKM_SHA384_HMAC, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{2, pkcs11.CKM_SHA512_HMAC, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{3, pkcs11.CKM_SHA256_HMAC, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{3, pkcs11.CKM_SHA384_HMAC, "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27"},
		{3, pkcs11.CKM_SHA512_HMAC, "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
		{4, pkcs11.CKM_SHA256_HMAC, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		{4, pkcs11.CKM_SHA384_HMAC, "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb"},
		{4, pkcs11.CKM_SHA512_HMAC, "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
		{6, pkcs11.CKM_SHA256_HMAC, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{6, pkcs11.CKM_SHA384_HMAC, "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"},
		{6, pkcs11.CKM_SHA512_HMAC, "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
		{7, pkcs11.CKM_SHA256_HMAC, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
		{7, pkcs11.CKM_SHA384_HMAC, "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e"},
		{7, pkcs11.CKM_SHA512_HMAC, "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
	} {
		k := newSecretKey(pkcs11.CKK_GENERIC_SECRET, data[c.tc][0])
		m := NewMechanism(c.mech, nil)
		want := hx(t, c.mac)
		if got := signOnce(t, m, k, data[c.tc][1]); !bytes.Equal(got, want) {
			t.Errorf("RFC 4231 TC%d %#x = %x", c.tc, c.mech, got)
		}
		if err := verifyOnce(m, k, data[c.tc][1], want); err != nil {
			t.Errorf("verify TC%d: %v", c.tc, err)
		}
		// _GENERAL with a 16-byte output is the truncated MAC.
		g := NewMechanism(c.mech+1, ulongBytes(16))
		if got := signOnce(t, g, k, data[c.tc][1]); !bytes.Equal(got, want[:16]) {
			t.Errorf("general TC%d = %x", c.tc, got)
		}
		bad := append([]byte(nil), want...)
		bad[0] ^= 1
		wantRV(t, verifyOnce(m, k, data[c.tc][1], bad), pkcs11.CKR_SIGNATURE_INVALID)
		wantRV(t, verifyOnce(m, k, data[c.tc][1], want[:10]), pkcs11.CKR_SIGNATURE_LEN_RANGE)
	}
	_, err := NewSign(NewMechanism(pkcs11.CKM_SHA256_HMAC, nil), newSecretKey(pkcs11.CKK_AES, make([]byte, 16)))
	wantRV(t, err, pkcs11.CKR_KEY_TYPE_INCONSISTENT)
}

func hexRange(from, to byte) []byte {
	var b []byte
	for i := from; i <= to; i++ {
		b = append(b, i)
	}
	return b
}
