package wrapmove

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/craton-co/craton/errs"
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

func TestMoveSoftHSMToSoftHSM(t *testing.T) {
	opts := moveOpts(t, "tgt-move")
	opts.JournalPath = filepath.Join(t.TempDir(), "journal.json")
	before := tokenDirHash(t, srcLabel)
	res, err := Move(context.Background(), opts)
	for _, r := range res.Rows {
		t.Logf("%-16s %-3s %-12s %-11s %-9s %s | %s", r.Label, r.ID, r.Class, r.Action, r.Status, r.Proof, r.Detail)
	}
	if err != nil {
		t.Fatalf("move: %v (kind %d)", err, errs.KindOf(err))
	}
	t.Logf("transport %s %s counts %+v", res.Transport, res.TransportNote, res.Counts)
	if after := tokenDirHash(t, srcLabel); after != before {
		t.Errorf("source token directory changed")
	}
}
