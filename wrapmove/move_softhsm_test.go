package wrapmove

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/p11"
)

func moveOpts(t testing.TB, target string) MoveOptions {
	l := softhsm(t)
	return MoveOptions{
		Source: l, Target: l,
		SourceToken: token(t, l, srcLabel), TargetToken: token(t, l, target),
		SourcePIN: userPIN, TargetPIN: userPIN,
		SourceModule: l.Path, TargetModule: l.Path,
	}
}

func logRows(t *testing.T, res *Result) {
	t.Helper()
	if res == nil {
		return
	}
	for _, r := range res.Rows {
		t.Logf("%-15s %-3s %-12s %-10s %-10s %s | %s", r.Label, r.ID, r.Class, r.Action, r.Status, r.Proof, r.Detail)
	}
}

// fresh opens a new logged-in session, as a later process would see the token.
func fresh(t *testing.T, opts MoveOptions, target bool) *p11.Session {
	m, tok, pin := opts.Source, opts.SourceToken, opts.SourcePIN
	if target {
		m, tok, pin = opts.Target, opts.TargetToken, opts.TargetPIN
	}
	s, err := openSide(m, tok, pin, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// assertArrived checks every moved or copied object: exactly one object
// with its identity on the target, with identical attributes.
func assertArrived(t *testing.T, opts MoveOptions, res *Result) {
	t.Helper()
	src, dst := fresh(t, opts, false), fresh(t, opts, true)
	srcObjs, err := readObjects(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.Status != StatusMoved && r.Status != StatusCopied && r.Status != StatusSkipped {
			continue
		}
		var so *object
		for _, o := range srcObjs {
			if o.Class == r.Class && o.IDHex() == r.ID && o.Label == r.Label {
				so = o
			}
		}
		hs, err := findByIdentity(dst, r.Class, so.ID, r.Label)
		if err != nil || len(hs) != 1 {
			t.Errorf("%s %s: %d objects on the target (err %v), want exactly 1", r.Class, r.Label, len(hs), err)
			continue
		}
		if err := compareAttrs(src, so.h, dst, hs[0], compareSet(so, opts.Harden)); err != nil {
			t.Errorf("%s %s: %v", r.Class, r.Label, err)
		}
	}
}

// assertNoStrays checks that every target object belongs to the plan (no
// transport key, no orphan without a label) and counts the source.
func assertNoStrays(t *testing.T, opts MoveOptions, res *Result, srcCount int) {
	t.Helper()
	labels := map[string]bool{}
	for _, a := range res.Plan.Actions {
		labels[a.Label] = true
	}
	dst := fresh(t, opts, true)
	objs, err := readObjects(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !labels[o.Label] {
			t.Errorf("stray object on the target: %s label %q id %x", o.Class, o.Label, o.ID)
		}
	}
	all, _ := readObjects(fresh(t, opts, false))
	if len(all) != srcCount {
		t.Errorf("source has %d objects, had %d", len(all), srcCount)
	}
}

func countSource(t *testing.T, opts MoveOptions) int {
	objs, err := readObjects(fresh(t, opts, false))
	if err != nil {
		t.Fatal(err)
	}
	return len(objs)
}

func TestMoveSoftHSMToSoftHSM(t *testing.T) {
	opts := moveOpts(t, "tgt-move")
	opts.JournalPath = filepath.Join(t.TempDir(), "journal.json")
	before, n := tokenDirHash(t, srcLabel), countSource(t, opts)
	res, err := Move(context.Background(), opts)
	logRows(t, res)
	if err != nil {
		t.Fatalf("move: %v (kind %d)", err, errs.KindOf(err))
	}
	if res.Transport != TransportECDH {
		t.Errorf("transport %q (%s), want ECDH", res.Transport, res.TransportNote)
	}
	want := map[string]string{ // label/class -> status, for the fixture's notable objects
		"my-signing-key/private_key": StatusMoved, "ec-p256-x/private_key": StatusMoved,
		"imported-ec-x/private_key": StatusMoved, "aes256-x/secret_key": StatusMoved, "hmac-x/secret_key": StatusMoved,
		"my-signing-key/certificate": StatusCopied, "my-data/data": StatusCopied, "ext-peer-pub/public_key": StatusCopied,
		"ed25519-x/private_key": StatusRegenerate, "ed25519-nx/private_key": StatusRegenerate,
		"rsa3072-nx/private_key": StatusRegenerate, "aes256-nx/secret_key": StatusRegenerate,
		"hmac20-x/secret_key": StatusBlocked,
	}
	for _, r := range res.Rows {
		if w, ok := want[r.Label+"/"+r.Class]; ok && r.Status != w {
			t.Errorf("%s/%s: status %s, want %s (%s)", r.Label, r.Class, r.Status, w, r.Detail)
		}
	}
	if res.Counts.Failed != 0 || res.Counts.Moved != 7 || res.Counts.Copied != 6 {
		t.Errorf("counts %+v", res.Counts)
	}
	assertArrived(t, opts, res)
	assertNoStrays(t, opts, res, n)
	if after := tokenDirHash(t, srcLabel); after != before {
		t.Errorf("source token directory changed")
	}
	j, err := LoadJournal(opts.JournalPath)
	if err != nil || j == nil {
		t.Fatalf("journal: %v", err)
	}
	if j.Transport != TransportECDH || len(j.PINHashes) != 2 || !j.PINHashes[1].Matches(userPIN) || j.PINHashes[1].Matches("0000") {
		t.Errorf("journal transport %q, pin hashes %d", j.Transport, len(j.PINHashes))
	}
	for id, e := range j.Objects {
		if e.State != StateProven {
			t.Errorf("journal %s: state %s (%s)", id, e.State, e.Reason)
		}
	}

	// A second run finds everything and proves it again.
	res2, err := Move(context.Background(), opts)
	if err != nil {
		t.Fatalf("second move: %v", err)
	}
	if res2.Counts.Skipped != 13 || res2.Counts.Moved+res2.Counts.Copied != 0 {
		t.Errorf("second run counts %+v, want 13 skipped", res2.Counts)
	}
}

func TestMoveSoftHSMResumeAfterCancel(t *testing.T) {
	opts := moveOpts(t, "tgt-resume")
	opts.JournalPath = filepath.Join(t.TempDir(), "journal.json")
	n := countSource(t, opts)
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = func(done, total int, label string) {
		if done == 12 { // after the public objects and the first private key
			cancel()
		}
	}
	res, err := Move(ctx, opts)
	if errs.KindOf(err) != errs.KindPartial || !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted move: %v", err)
	}
	if len(res.Rows) != 12 {
		t.Fatalf("%d rows before the interruption, want 12", len(res.Rows))
	}
	opts.Progress = nil
	res, err = Move(context.Background(), opts)
	logRows(t, res)
	if err != nil {
		t.Fatalf("resumed move: %v", err)
	}
	if res.Counts.Skipped != 7 || res.Counts.Moved != 6 { // 6 copies + my-signing-key done before
		t.Errorf("resumed counts %+v, want 7 skipped, 6 moved", res.Counts)
	}
	assertArrived(t, opts, res)
	assertNoStrays(t, opts, res, n)
}

func TestMoveSoftHSMResumeAfterCrash(t *testing.T) {
	opts := moveOpts(t, "tgt-crash")
	opts.JournalPath = filepath.Join(t.TempDir(), "journal.json")
	n := countSource(t, opts)
	opts.crashAfterUnwrap = Identity(ClassSecretKey, "11", "aes256-x")
	if _, err := Move(context.Background(), opts); !errors.Is(err, errSimulatedCrash) {
		t.Fatalf("crash hook: %v", err)
	}
	j, _ := LoadJournal(opts.JournalPath)
	if e := j.Objects[opts.crashAfterUnwrap]; e == nil || e.State == StateProven {
		t.Fatalf("journal after crash: %+v", e)
	}
	opts.crashAfterUnwrap = ""
	res, err := Move(context.Background(), opts)
	logRows(t, res)
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	for _, r := range res.Rows {
		if r.Label == "aes256-x" && r.Status != StatusSkipped {
			t.Errorf("aes256-x after crash: %s, want skipped (found on the target and re-proven)", r.Status)
		}
	}
	assertArrived(t, opts, res)
	assertNoStrays(t, opts, res, n)
}

func TestMoveSoftHSMHardenAndDryRun(t *testing.T) {
	opts := moveOpts(t, "tgt-dry")
	opts.DryRun = true
	res, err := Move(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Planned != 13 {
		t.Errorf("dry run counts %+v", res.Counts)
	}
	if objs, _ := readObjects(fresh(t, opts, true)); len(objs) != 0 {
		t.Errorf("dry run created %d objects", len(objs))
	}

	opts = moveOpts(t, "tgt-harden")
	opts.Harden = true
	res, err = Move(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	assertArrived(t, opts, res)
	dst := fresh(t, opts, true)
	objs, _ := readObjects(dst)
	for _, o := range objs {
		if (o.Class == ClassPrivateKey || o.Class == ClassSecretKey) && o.Extractable {
			t.Errorf("%s %s is extractable on a hardened target", o.Class, o.Label)
		}
	}
}
