package mech

import "testing"

func TestSelfTests(t *testing.T) {
	tests := SelfTests(func() error { return nil })
	if len(tests) != 17 {
		t.Fatalf("got %d self-tests, want 17", len(tests))
	}
	for i, st := range tests {
		if st.Num != i {
			t.Errorf("test %d numbered %d", i, st.Num)
		}
		if err := st.Run(); err != nil {
			t.Errorf("self-test %d %s: %v", st.Num, st.Name, err)
		}
	}
	if SelfTests(nil)[0].Run() == nil {
		t.Error("integrity test passed without a check")
	}
}

// TestSelfTestDetectsCorruptKAT corrupts each expected value in turn and
// checks that the matching self-test fails.
func TestSelfTestDetectsCorruptKAT(t *testing.T) {
	cases := []struct {
		num int
		kat *[]byte
	}{
		{1, &kats.sha256}, {2, &kats.sha384}, {3, &kats.sha512}, {4, &kats.sha3_256},
		{5, &kats.hmac256}, {6, &kats.hmac384}, {7, &kats.hmac512}, {8, &kats.gcmCT},
		{9, &kats.cbcCT}, {10, &kats.ctrCT}, {11, &kats.rsaSig}, {12, &kats.ecdsaSig}, {16, &kats.drbg},
	}
	tests := SelfTests(func() error { return nil })
	for _, c := range cases {
		orig := *c.kat
		bad := append([]byte(nil), orig...)
		bad[len(bad)/2] ^= 0x01
		*c.kat = bad
		err := tests[c.num].Run()
		*c.kat = orig
		if err == nil {
			t.Errorf("self-test %d %s passed with a corrupted KAT", c.num, tests[c.num].Name)
		}
	}
}
