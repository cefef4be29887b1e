package faults_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/craton-co/craton/ck"
	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/hsm/config"
	"github.com/craton-co/craton/internal/faults"
	"github.com/craton-co/craton/internal/softhsmtest"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/wrapmove"
	"github.com/miekg/pkcs11"
)

// Engine PINs of the targets (8+ bytes, two character classes).
const (
	engSOPIN   = "so-Pin1234"
	engUserPIN = "user-Pin12"
)

// source is a small extractable SoftHSMv2 population shared by the
// subtests of one test: 4 AES, 2 generic secrets, an EC P-256 pair and an
// RSA-2048 pair... (PopulateBulk's mix, 12 objects).
type source struct {
	fx   *softhsmtest.Fixture
	tok  *softhsmtest.Token
	inv  *inventory.Inventory
	hash string
}

func newSource(t *testing.T, name string) *source {
	t.Helper()
	fx := softhsmtest.New(t)
	tok := fx.EmptyToken(name)
	softhsmtest.PopulateBulk(tok, 12)
	inv, err := inventory.Take(fx.Module(), tok.P11(), inventory.Options{PIN: softhsmtest.UserPIN})
	if err != nil {
		t.Fatal(err)
	}
	return &source{fx: fx, tok: tok, inv: inv, hash: tokenHash(t, fx.Dir(), tok.Label)}
}

// engineTarget starts an in-memory embedded engine whose token carries
// label, ready for a move.
func engineTarget(t *testing.T, label string) *p11.Loaded {
	t.Helper()
	cfg := config.Default()
	cfg.Token.StoragePath = filepath.Join(t.TempDir(), "store")
	cfg.Token.PersistObjects = false
	cfg.Security.PBKDF2Iterations = 100_000
	cfg.Audit.Enabled = false
	l, err := modules.OpenEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	slot, ok, err := p11.FreeSlot(l)
	if err != nil || !ok {
		t.Fatalf("engine free slot: %v %v", ok, err)
	}
	if err := l.InitToken(slot, engSOPIN, label); err != nil {
		t.Fatal(err)
	}
	tok, err := p11.FindToken(l, label, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := p11.OpenSession(l, tok, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Login(pkcs11.CKU_SO, engSOPIN); err != nil {
		t.Fatal(err)
	}
	if err := l.InitPIN(s.H, engUserPIN); err != nil {
		t.Fatal(err)
	}
	_ = l.Logout(s.H)
	return l
}

// faultyMove is a move from src into a fresh engine, both sides behind
// fault injectors with no rules yet.
func faultyMove(t *testing.T, src *source) (wrapmove.MoveOptions, *faults.Module, *faults.Module, *p11.Loaded) {
	t.Helper()
	eng := engineTarget(t, src.tok.Label)
	etok, err := p11.FindToken(eng, src.tok.Label, "")
	if err != nil {
		t.Fatal(err)
	}
	fs, fd := faults.Wrap(src.fx.Module()), faults.Wrap(eng)
	return wrapmove.MoveOptions{
		Source: fs, Target: fd,
		SourceToken: src.tok.P11(), TargetToken: etok,
		SourcePIN: softhsmtest.UserPIN, TargetPIN: engUserPIN,
		SourceModule: p11.DefaultSoftHSM, TargetModule: "embedded",
		JournalPath: filepath.Join(t.TempDir(), "journal.json"),
	}, fs, fd, eng
}

// tokenRecords takes the inventory of the target's token objects.
func tokenRecords(t *testing.T, eng *p11.Loaded, label string) []inventory.Record {
	t.Helper()
	tok, err := p11.FindToken(eng, label, "")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Take(eng, tok, inventory.Options{PIN: engUserPIN})
	if err != nil {
		t.Fatalf("target inventory: %v", err)
	}
	var out []inventory.Record
	for _, r := range inv.Records {
		// Session objects of a session the faulty run could not close
		// (C_CloseSession failed too) die with the process; only token
		// objects count.
		if r.Token != nil && *r.Token {
			out = append(out, r)
		}
	}
	return out
}

func ident(r inventory.Record) string { return r.Class + ":" + r.Label + ":" + r.ID }

// assertConverged checks the target against the source inventory: every
// object exactly once with the same fingerprint or check value, nothing
// else; and the source's files unchanged.
func assertConverged(t *testing.T, src *source, eng *p11.Loaded) {
	t.Helper()
	got := map[string][]inventory.Record{}
	recs := tokenRecords(t, eng, src.tok.Label)
	for _, r := range recs {
		got[ident(r)] = append(got[ident(r)], r)
	}
	for _, s := range src.inv.Records {
		rs := got[ident(s)]
		if len(rs) != 1 {
			t.Errorf("%s is %d times on the target, want once", ident(s), len(rs))
			continue
		}
		if rs[0].Fingerprint != s.Fingerprint || rs[0].CheckValue != s.CheckValue {
			t.Errorf("%s differs: fingerprint %s/%s check value %s/%s", ident(s), s.Fingerprint, rs[0].Fingerprint, s.CheckValue, rs[0].CheckValue)
		}
	}
	if len(recs) != len(src.inv.Records) {
		t.Errorf("the target holds %d token objects, the source %d", len(recs), len(src.inv.Records))
	}
	if h := tokenHash(t, src.fx.Dir(), src.tok.Label); h != src.hash {
		t.Errorf("the source token's files changed")
	}
}

// converge re-runs the move without faults: no failure, and converged.
func converge(t *testing.T, src *source, opts wrapmove.MoveOptions, fs, fd *faults.Module, eng *p11.Loaded) {
	t.Helper()
	fs.Set()
	fd.Set()
	res, err := wrapmove.Move(context.Background(), opts)
	if err != nil {
		logRows(t, res)
		t.Fatalf("re-run without faults: %v", err)
	}
	if c := res.Counts; c.Failed != 0 || c.Unproven != 0 || c.Moved+c.Copied+c.Skipped != len(src.inv.Records) {
		t.Errorf("re-run counts %+v, want all %d objects moved, copied or skipped", c, len(src.inv.Records))
	}
	assertConverged(t, src, eng)
}

func logRows(t *testing.T, res *wrapmove.Result) {
	t.Helper()
	if res == nil {
		return
	}
	for _, r := range res.Rows {
		t.Logf("%-12s %-12s %-8s %s | %s", r.Label, r.Class, r.Status, r.Proof, r.Detail)
	}
}

// failureText is the error and every failed row's detail.
func failureText(err error, res *wrapmove.Result) string {
	text := fmt.Sprint(err)
	if res != nil {
		for _, r := range res.Rows {
			if r.Status == wrapmove.StatusFailed {
				text += "\n" + r.Detail
			}
		}
	}
	return text
}

func rvName(r faults.Rule) string {
	if r.RV == 0 {
		return "CKR_DEVICE_ERROR"
	}
	return ck.RVName(r.RV)
}

// TestFaultsMoveSoftHSMToEngine fails chosen PKCS#11 calls of the source or
// the target mid-way through a move: the move reports the failure with its
// CKR_ name (a failed row, or the error when nothing could start), leaves
// the target as it began (failures before the first object) or resumable,
// and a re-run without the fault converges.
func TestFaultsMoveSoftHSMToEngine(t *testing.T) {
	src := newSource(t, "faults-move")
	cases := []struct {
		name      string
		side      string // "source" or "target"
		rule      faults.Rule
		wantErr   errs.Kind // the kind Move returns; 0: success
		untouched bool      // the target must still be empty
		transport string    // the transport the faulty run must have used, if any
	}{
		{"source C_WrapKey fails from the 3rd key", "source", faults.Rule{Func: "C_WrapKey", After: 2}, errs.KindPartial, false, ""},
		{"source C_WrapKey fails once", "source", faults.Rule{Func: "C_WrapKey", After: 4, Times: 1, RV: pkcs11.CKR_KEY_NOT_WRAPPABLE}, errs.KindPartial, false, ""},
		{"source C_GetAttributeValue fails while reading the token", "source", faults.Rule{Func: "C_GetAttributeValue", After: 5}, errs.KindInternal, true, ""},
		{"source C_FindObjects fails", "source", faults.Rule{Func: "C_FindObjects", RV: pkcs11.CKR_SESSION_HANDLE_INVALID}, errs.KindInternal, true, ""},
		{"source C_Login: PIN incorrect", "source", faults.Rule{Func: "C_Login", RV: pkcs11.CKR_PIN_INCORRECT}, errs.KindAuth, true, ""},
		{"source C_Login: PIN locked", "source", faults.Rule{Func: "C_Login", RV: pkcs11.CKR_PIN_LOCKED}, errs.KindPINLocked, true, ""},
		{"source C_Sign fails (proofs)", "source", faults.Rule{Func: "C_Sign", After: 1}, errs.KindPartial, false, ""},
		{"target C_UnwrapKey fails from the 3rd key", "target", faults.Rule{Func: "C_UnwrapKey", After: 2, RV: pkcs11.CKR_DEVICE_MEMORY}, errs.KindPartial, false, ""},
		{"target C_CreateObject fails (copies)", "target", faults.Rule{Func: "C_CreateObject", After: 1}, errs.KindPartial, false, ""},
		{"target C_DeriveKey fails: by-value transport", "target", faults.Rule{Func: "C_DeriveKey", RV: pkcs11.CKR_MECHANISM_INVALID}, 0, false, wrapmove.TransportByValue},
		{"target C_GetAttributeValue fails after the unwraps began", "target", faults.Rule{Func: "C_GetAttributeValue", After: 8}, errs.KindPartial, false, ""},
		{"target C_DestroyObject fails (transport cleanup)", "target", faults.Rule{Func: "C_DestroyObject", RV: pkcs11.CKR_DEVICE_REMOVED}, 0, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, fs, fd, eng := faultyMove(t, src)
			inj := fs
			if tc.side == "target" {
				inj = fd
			}
			inj.Set(tc.rule)
			res, err := wrapmove.Move(context.Background(), opts)
			t.Logf("rule %v; injected %v; move: %v", tc.rule, inj.Injected(), err)
			if len(inj.Injected()) == 0 {
				t.Fatalf("the rule never fired: calls %s", inj.Summary())
			}
			if errs.KindOf(err) != tc.wantErr && !(tc.wantErr == 0 && err == nil) {
				logRows(t, res)
				t.Fatalf("move error %v (kind %d), want kind %d", err, errs.KindOf(err), tc.wantErr)
			}
			if err != nil && !strings.Contains(failureText(err, res), rvName(tc.rule)) {
				logRows(t, res)
				t.Errorf("neither the error nor a failed row names %s:\n%s", rvName(tc.rule), failureText(err, res))
			}
			if tc.transport != "" && (res == nil || res.Transport != tc.transport) {
				t.Errorf("transport %v, want %s", res, tc.transport)
			}
			if tc.untouched {
				if recs := tokenRecords(t, eng, src.tok.Label); len(recs) != 0 {
					t.Errorf("the target holds %d objects after a failure before any object, want 0", len(recs))
				}
			}
			converge(t, src, opts, fs, fd, eng)
		})
	}
}

// TestFaultsMoveRandomPoint makes every call of one side fail from a
// random point of the run on (a module that died, a token pulled out):
// whatever the point, the move stops with an error that names the CKR_,
// and a re-run converges. CRATON_FAULT_POINTS sets the number of points
// (default 2; 'make reliability-long' runs 40), CRATON_FAULT_SEED replays them.
func TestFaultsMoveRandomPoint(t *testing.T) {
	seed, _ := strconv.ParseUint(os.Getenv("CRATON_FAULT_SEED"), 10, 64)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	points, err := strconv.Atoi(os.Getenv("CRATON_FAULT_POINTS"))
	if err != nil || points <= 0 {
		points = 2
	}
	t.Logf("%d points; seed %d (CRATON_FAULT_SEED replays)", points, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	src := newSource(t, "faults-random")
	// One clean run counts each side's calls.
	opts, fs, fd, _ := faultyMove(t, src)
	if _, err := wrapmove.Move(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	total := map[string]int{"source": fs.Total(), "target": fd.Total()}
	t.Logf("calls in a full move: %v", total)
	rvs := []uint{pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_GENERAL_ERROR}
	for i := range points {
		side := []string{"source", "target"}[i%2]
		after := rng.IntN(total[side])
		rv := rvs[rng.IntN(len(rvs))]
		t.Run(fmt.Sprintf("%s-after-%d-%s", side, after, ck.RVName(rv)), func(t *testing.T) {
			opts, fs, fd, eng := faultyMove(t, src)
			inj := fs
			if side == "target" {
				inj = fd
			}
			inj.Set(faults.Rule{Func: "*", After: after, RV: rv})
			res, err := wrapmove.Move(context.Background(), opts)
			if err == nil {
				t.Fatalf("move succeeded although every call after %d failed", after)
			}
			if text := failureText(err, res); !strings.Contains(text, ck.RVName(rv)) {
				t.Errorf("the failure does not name %s:\n%s", ck.RVName(rv), text)
			}
			converge(t, src, opts, fs, fd, eng)
		})
	}
}

// TestFaultsInventoryTake fails calls of the source during inventory.Take:
// it returns the error with the CKR_ name, never a partial inventory.
func TestFaultsInventoryTake(t *testing.T) {
	src := newSource(t, "faults-inv")
	for _, r := range []faults.Rule{
		{Func: "C_GetInfo"},
		{Func: "C_GetTokenInfo", RV: pkcs11.CKR_TOKEN_NOT_PRESENT},
		{Func: "C_GetMechanismList", RV: pkcs11.CKR_SLOT_ID_INVALID},
		{Func: "C_GetMechanismInfo", After: 3, RV: pkcs11.CKR_MECHANISM_INVALID},
		{Func: "C_OpenSession", RV: pkcs11.CKR_SESSION_COUNT},
		{Func: "C_Login", RV: pkcs11.CKR_PIN_INCORRECT},
		{Func: "C_FindObjectsInit", RV: pkcs11.CKR_OPERATION_ACTIVE},
		{Func: "C_FindObjects", RV: pkcs11.CKR_DEVICE_REMOVED},
		{Func: "C_GetAttributeValue", After: 7},
		{Func: "C_GetAttributeValue", After: 20, RV: pkcs11.CKR_DEVICE_MEMORY},
		{Func: "C_EncryptInit", After: 1, RV: pkcs11.CKR_DEVICE_ERROR},
		{Func: "C_Encrypt", After: 0, RV: pkcs11.CKR_GENERAL_ERROR},
	} {
		t.Run(r.String(), func(t *testing.T) {
			m := faults.Wrap(src.fx.Module(), r)
			inv, err := inventory.Take(m, src.tok.P11(), inventory.Options{PIN: softhsmtest.UserPIN})
			if len(m.Injected()) == 0 {
				t.Fatalf("the rule never fired: %s", m.Summary())
			}
			if err == nil {
				// A failed check value is per object, not fatal: the
				// record names the failure, or falls back to the next
				// method and says which one it used.
				changed := 0
				for i, rec := range inv.Records {
					if strings.Contains(rec.CheckMethod, rvName(r)) || rec.CheckMethod != src.inv.Records[i].CheckMethod {
						changed++
						t.Logf("%s: check %q (was %q)", rec.Label, rec.CheckMethod, src.inv.Records[i].CheckMethod)
					}
				}
				if changed == 0 {
					t.Fatalf("Take succeeded and no record shows %s", rvName(r))
				}
				return
			}
			if !strings.Contains(err.Error(), rvName(r)) {
				t.Errorf("error %q does not name %s", err, rvName(r))
			}
			t.Logf("%v (exit %d)", err, errs.ExitCode(err))
		})
	}
}

// tokenHash hashes every file of the SoftHSMv2 token directory whose
// token.object names label, the first 8 bytes of token.object masked
// (SoftHSMv2's generation counter, bumped by every C_Login).
func tokenHash(t *testing.T, dir, label string) string {
	t.Helper()
	root := filepath.Join(dir, "tokens")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		to, err := os.ReadFile(filepath.Join(root, e.Name(), "token.object"))
		if err != nil || !bytes.Contains(to, []byte(label)) {
			continue
		}
		var lines []string
		_ = filepath.WalkDir(filepath.Join(root, e.Name()), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if filepath.Base(p) == "token.object" && len(b) >= 8 {
				b = append(make([]byte, 8), b[8:]...)
			}
			s := sha256.Sum256(b)
			lines = append(lines, p+" "+hex.EncodeToString(s[:]))
			return nil
		})
		sort.Strings(lines)
		s := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		return hex.EncodeToString(s[:])
	}
	t.Fatalf("no SoftHSM token directory holds %q", label)
	return ""
}
