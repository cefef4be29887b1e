package mech

import "encoding/hex"

// Known-answer data of the power-on self-tests. Held in a variable (not
// constants) so that the package's tests can corrupt one and watch the
// self-test fail.
type katData struct {
	sha256, sha384, sha512, sha3_256 []byte // "abc", FIPS 180-4 / FIPS 202
	hmac256, hmac384, hmac512        []byte // RFC 4231 test case 2
	gcmCT                            []byte // GCM spec test case 16 (AES-256): ct || tag
	cbcCT, ctrCT                     []byte // Craton's AES-256-CBC / -CTR POST vectors
	rsaSig                           []byte // fixed RSA-2048 key, SHA256-RSA-PKCS over rsaMsg
	ecdsaSig                         []byte // RFC 6979 A.2.5, P-256, SHA-256, "sample": r || s
	drbg                             []byte // CAVP HMAC_DRBG SHA-256, no PR, with reseed, count 0
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var kats = katData{
	sha256:   unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	sha384:   unhex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"),
	sha512:   unhex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
	sha3_256: unhex("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
	hmac256:  unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
	hmac384:  unhex("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"),
	hmac512:  unhex("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
	gcmCT: unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" + "76fc6ece0f4e1768cddf8853bb2d551b"),
	cbcCT:  unhex("b9f9935be05d470de98c119218e5a9c8f7316ad66dee0ad71b1cb21da0322d30"),
	ctrCT:  unhex("f41e8e6027feb9b41b899f1284de34038b0d0dd6d16d9823d85b56"),
	rsaSig: unhex("14e0376d47a557af4d912007a94792481f8d2e3cf047d46a2890b766ccea9c6e7ceaf57936faa91f0630f4944f05c015349e679b777ea511dd911167a47141968729f4d7ea1095e38979160ef34293a2a2d2f434c8e185ec4535c0f083cf5aee98de7988e67a2dff4118b2274d029d600762a274e35b82031f9ff7d51f361c5ee5114debe683b5ba3e9b5977c0089f2cfacd2002a69c91efddd1bfdc04b094a9c30385dfb5b95a2bff256acd108f7bf77ba900ddb53dd06d26e41305ea212891e78705dbe078e61ac524219388928cf96a4154235be01034b54c0a2556025628e111bdaf8c6de954cf5bd09c26273de75bf391d7cbb946cc54c94abe1dcc847d"),
	ecdsaSig: unhex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716" +
		"f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"),
	drbg: unhex("76fc79fe9b50beccc991a11b5635783a83536add03c157fb30645e611c2898bb" +
		"2b1bc215000209208cd506cb28da2a51bdb03826aaf2bd2335d576d519160842" +
		"e7158ad0949d1a9ec3e66ea1b1a064b005de914eac2e9d4f2d72a8616a802254" +
		"22918250ff66a41bd2f864a6a38cc5b6499dc43f7f2bd09e1e0f8f5885935124"),
}

// Inputs of the known-answer tests.
var (
	gcmKey   = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
	gcmIV    = unhex("cafebabefacedbaddecaf888")
	gcmAAD   = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
	gcmPT    = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
	rsaMsg   = []byte("Craton POST RSA-2048 PKCS#1 v1.5 SHA-256")
	ecdsaKey = unhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")

	drbgEntropy = unhex("06032cd5eed33f39265f49ecb142c511da9aff2af71203bffaf34a9ca5bd9c0d")
	drbgNonce   = unhex("0e66f71edc43e42a45ad3c6fc6cdc4df")
	drbgReseed  = unhex("01920a4e669ed3a85ae8a33b35a74ad7fb2a6bb4cf395ce00334a9c9a5a5d552")
)

// rsaKATKey is a fixed RSA-2048 test key (PKCS#8, generated for this test
// only). Its expected signature was cross-checked with OpenSSL.
const rsaKATKey = `
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQD0JOsu3X9HxhTE8Sj/+NPc3YQ6
K2vGlyBm4Z4C5eF5OiEmfQPRFRENXg6fpDA10EReV4qn0y9Cv/K1v0QkVl17uRSr/K+coESHDFJh
JlJ+yjhAkf7DonxCW8oODEZSq4fUj+lVitO+kkFYdzSCJFcv5NcGCIpEFqZJL/uGaZxLw2+qok6A
J7+TqHzAGnQx6L0rzrzeDc/oHSp4XM9ut+3q7YU+slbfRrkgACqon5UBltSbJk4Y866ZH5oe/dVC
36QliTTLdrz1LX5SHs5WhggMx/yVEijgo6tVGKWh0tRDcaEXDgwCpjNU0TDdZcLp4FImDAdcq3FB
EEX9C6gcxlWXAgMBAAECggEAXNUS5hGL3ac4a4BFdjtPl8pVBmdPRkZdqDD+y5xMZTOQullL07se
bkZG6jXcrQGhlXvU+aZn8IobCDePef+q8Sn5bcIZpkUceXtacZ1IPfS3efnpdMr6U6MiS8AoFzQo
5E7KSuAMToi/NxuwiBG4Yzow9pbVuDkihm6rxbqvlvCdi+dmo4Yp2XzQizOWkSATXHby5Qvq4Vy0
ydTHv93a+90jvZIrQ80LwP2g1ry+H6dt9SJ1YGwEa4z+rb7GrM64uYLZQQQHxwGoIwbt9XOVZ+F5
0O0yI7/W+J22Dx/hle9ATi1ATrHqNTd1Q8Rq9iC0FpzPy+1vuR6sx/Qfz5iU4QKBgQD7MF4O0ktb
BQnw1eo/8BXkFHmVofnH2ORrOR8qfvxnxNR624WmECPvPECz71I4dSVqnOa1ZgBnoPfBboO6wW6b
7JqgKdIct/nwWY3a3kUqlSoDO3IZSyPWroNY5FWyUC/iS2QLVUcd6qPAQ9xBIj44hq7IpiXe8sGw
sdAYohFJYQKBgQD40gJvDzH6p8/3AZ/+NqEwJmJ39zmQnywcEF0xLDl2loZusQuiMiuaNO6fxCOz
Ujw2uDUaN9VrjmUqAjMkn65waio5Lo5UkTMsSZl+RpKEWpI4N5sWiMa+U+iiGIOXnBTFvavrMl/s
Afx5MNzkJOKotoai2j0mXwcG7aAVwFgp9wKBgQC0skmnbd5pnslU5/24exS0W4pPexL9kehXveLO
pkUavPyBWPPez1OaYQTGrA3AsXz2IeLRcYwvABvamY7HxSi1oFJnj04n/K0fGr0ySp0FEgMECjp9
OZGReT7hrnh7arXXm5ZflLwxKD8eK3MBpAmQjkqj6unpZUayvmdNoSDAYQKBgG4wmtFSGmEVtfx+
ZLswuDtZlFvqSTzpsKARAyRGoIAK8yfMEgnXTAXzkQWB2AmOzomxFBszRLloCxcKeFmsuZSg/2fp
XTDISLBBO893M2WXso9g2LanBdS91hUK5CPdBDn54Eu9OEuNKaEF6ZzDVPlAM+mk2lXG2ZbQ3wci
8ihLAoGAIKj4vwjwDK55ah4I1naz284crEvOQIjUnLVD0UJW3zX9yEBrktGdgtqhnndCb6Wl27kp
2wHWX4AlWrlSdYPmLTNh8xK3E5TjswfD2e0KqtlrLhY3qNiIP6djhZ443UyXYvJ1P64WNclPegYs
oDphHSiMUaeUJbeooFUfmMKATR0=`
