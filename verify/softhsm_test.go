package verify

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/wrapmove"
	"github.com/miekg/pkcs11"
)

// TestVerifySoftHSM moves a representative SoftHSMv2 token to a second
// SoftHSMv2 token, verifies the clean result, then breaks the target step
// by step (the breakages accumulate; each subtest checks its own item).
func TestVerifySoftHSM(t *testing.T) {
	fx := softhsmtest.New(t)
	src := fx.EmptyToken("verify-src")
	softhsmtest.PopulateRepresentative(src)
	tgt := fx.EmptyToken("verify-tgt")
	m := fx.Module()
	journalPath := filepath.Join(t.TempDir(), "journal.json")
	res, err := wrapmove.Move(context.Background(), wrapmove.MoveOptions{
		Source: m, Target: m, SourceToken: src.P11(), TargetToken: tgt.P11(),
		SourcePIN: softhsmtest.UserPIN, TargetPIN: softhsmtest.UserPIN, JournalPath: journalPath,
	})
	if err != nil {
		for _, r := range res.Rows {
			t.Logf("%s %s %s %s %s", r.Label, r.Class, r.Action, r.Status, r.Detail)
		}
		t.Fatalf("move: %v", err)
	}
	j, err := wrapmove.LoadJournal(journalPath)
	if err != nil || j == nil {
		t.Fatalf("journal: %v", err)
	}
	opts := Options{Source: m, Target: m, SourceToken: src.P11(), TargetToken: tgt.P11(),
		SourcePIN: softhsmtest.UserPIN, TargetPIN: softhsmtest.UserPIN, Plan: &res.Plan}
	verify := func(t *testing.T, o Options) *Report {
		t.Helper()
		rep, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for _, it := range rep.Items {
			t.Logf("%2d %s %s", it.Num, it.Status, it.Evidence)
			for _, d := range it.Details {
				t.Logf("     %s", d)
			}
		}
		return rep
	}
	expect := func(t *testing.T, rep *Report, n int, want Status, contains string) {
		t.Helper()
		it := rep.Item(n)
		if it.Status != want {
			t.Errorf("item %d: %s (%s), want %s", n, it.Status, it.Evidence, want)
		}
		if contains != "" && !strings.Contains(it.Evidence+"\n"+strings.Join(it.Details, "\n"), contains) {
			t.Errorf("item %d does not mention %q: %s %v", n, contains, it.Evidence, it.Details)
		}
	}

	t.Run("clean", func(t *testing.T) {
		rep := verify(t, opts)
		for _, n := range []int{1, 2, 3, 5, 6} {
			expect(t, rep, n, Pass, "")
		}
		// imported-ec-x has no public half on the source (its public key
		// was imported under another ID): signed, but nothing to compare.
		expect(t, rep, 4, Warn, `WARN: private-key "imported-ec-x" id=21 P-256: CKM_ECDSA signed; the source has 0 public keys`)
		if it := rep.Item(4); strings.Count(strings.Join(it.Details, "\n"), "WARN") != 1 {
			t.Errorf("item 4: more than the one expected warning: %v", it.Details)
		}
		expect(t, rep, 7, Skip, "")
		expect(t, rep, 8, Skip, "external")
		expect(t, rep, 9, Skip, "")
		if s := rep.Item(10).Status; s != Pass && s != Warn && s != Skip {
			t.Errorf("item 10: %s", s)
		}
		if rep.Err() != nil {
			t.Errorf("Err: %v", rep.Err())
		}
		// the target holds no session leftovers and the source is intact
		if n := len(rep.Items); n != 10 {
			t.Errorf("%d items", n)
		}
	})
	t.Run("exec", func(t *testing.T) {
		o := opts
		o.Exec, o.ModulePath = []string{"sh", "-c", `test "$CRATON_TOKEN_LABEL" = "` + tgt.Label + `" && test "$PKCS11_MODULE_PATH" = /x.so`}, "/x.so"
		expect(t, verify(t, o), 7, Pass, "exited 0")
		o.Exec = []string{"false"}
		expect(t, verify(t, o), 7, Fail, "")
	})
	t.Run("missing-mechanism", func(t *testing.T) {
		o := opts
		o.RequireMechanisms = []uint{0x7fff_0001}
		expect(t, verify(t, o), 2, Fail, "not advertised")
	})
	t.Run("unchanged-pins", func(t *testing.T) {
		o := opts
		o.Journal = j
		rep := verify(t, o)
		expect(t, rep, 9, Fail, "user PIN")
		expect(t, rep, 9, Fail, "SO PIN not given")
		o.TargetSOPIN = "rotated-so-pin"
		expect(t, verify(t, o), 9, Fail, "SO PIN differs")
	})
	t.Run("swapped-ids", func(t *testing.T) {
		tgt.Do(func(s *p11.Session) {
			a, b := one(t, s, pkcs11.CKO_SECRET_KEY, "11"), one(t, s, pkcs11.CKO_SECRET_KEY, "10")
			for h, id := range map[pkcs11.ObjectHandle][]byte{a: {0x10}, b: {0x11}} {
				if err := s.M.SetAttributeValue(s.H, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, id)}); err != nil {
					t.Fatal(err)
				}
			}
		})
		rep := verify(t, opts)
		expect(t, rep, 3, Fail, `"aes256-x" id=11`)
		expect(t, rep, 3, Fail, `"aes128-x" id=10`)
		tgt.Do(func(s *p11.Session) { // swap back: later subtests break other things
			a, b := one(t, s, pkcs11.CKO_SECRET_KEY, "10"), one(t, s, pkcs11.CKO_SECRET_KEY, "11")
			for h, id := range map[pkcs11.ObjectHandle][]byte{a: {0x11}, b: {0x10}} {
				if err := s.M.SetAttributeValue(s.H, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, id)}); err != nil {
					t.Fatal(err)
				}
			}
		})
		expect(t, verify(t, opts), 3, Pass, "")
	})
	t.Run("deleted-key", func(t *testing.T) {
		destroyOn(t, tgt, pkcs11.CKO_SECRET_KEY, "10")
		expect(t, verify(t, opts), 3, Fail, `"aes128-x" id=10 AES-128: not on the target`)
	})
	t.Run("changed-label", func(t *testing.T) {
		tgt.Do(func(s *p11.Session) {
			h := one(t, s, pkcs11.CKO_SECRET_KEY, "13")
			if err := s.M.SetAttributeValue(s.H, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, "renamed")}); err != nil {
				t.Fatal(err)
			}
		})
		expect(t, verify(t, opts), 3, Fail, `"hmac-x" id=13`)
	})
	t.Run("replaced-key", func(t *testing.T) {
		destroyOn(t, tgt, pkcs11.CKO_PRIVATE_KEY, "04")
		destroyOn(t, tgt, pkcs11.CKO_PUBLIC_KEY, "04")
		tgt.Do(func(s *p11.Session) {
			id := []byte{0x04}
			common := func(extra ...*pkcs11.Attribute) []*pkcs11.Attribute {
				return append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
					pkcs11.NewAttribute(pkcs11.CKA_ID, id), pkcs11.NewAttribute(pkcs11.CKA_LABEL, "ec-p256-x")}, extra...)
			}
			_, _, err := s.M.GenerateKeyPair(s.H, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)},
				common(pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true)),
				common(pkcs11.NewAttribute(pkcs11.CKA_SIGN, true), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
					pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)))
			if err != nil {
				t.Fatal(err)
			}
		})
		expect(t, verify(t, opts), 4, Fail, `"ec-p256-x" id=04 P-256: target signature does not verify with the source public key`)
	})
	t.Run("certificate-without-key", func(t *testing.T) {
		destroyOn(t, tgt, pkcs11.CKO_PRIVATE_KEY, "01")
		rep := verify(t, opts)
		expect(t, rep, 6, Fail, "0 private keys with CKA_ID 01")
		if rep.Err() == nil {
			t.Error("Err() is nil with failed items")
		}
	})
}

func one(t *testing.T, s *p11.Session, class uint, id string) pkcs11.ObjectHandle {
	t.Helper()
	h, err := findOne(s, class, id, "")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func destroyOn(t *testing.T, tok *softhsmtest.Token, class uint, id string) {
	t.Helper()
	tok.Do(func(s *p11.Session) {
		if err := s.M.DestroyObject(s.H, one(t, s, class, id)); err != nil {
			t.Fatal(err)
		}
	})
}
