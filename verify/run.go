package verify

import (
	"context"
	"time"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/inventory"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/wrapmove"
	"github.com/miekg/pkcs11"
)

// run is one Run's state, shared by the items.
type run struct {
	opts  Options
	start time.Time
	src   *inventory.Inventory // pre-migration inventory
	dst   *inventory.Inventory // live inventory of the target
	srcS  *p11.Session         // read-only, logged in when SourcePIN is given; nil without a source module
	dstS  *p11.Session         // read-only, logged in as user
	// ops counts the target operations this run performed, by audit
	// operation name and mechanism, for item 8.
	ops map[string]map[uint]int
}

// Run executes the checklist and returns the filled-in report. An error
// means the checklist could not be run at all (no target, no login, no
// inventory); failed items are in the report and in Report.Err.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Target == nil {
		return nil, errs.Usage("verify needs a target module", "")
	}
	if opts.Source == nil && opts.Inventory == nil {
		return nil, errs.Usage("verify needs a source module or a pre-migration inventory", "pass --inventory FILE or the source module")
	}
	r := &run{opts: opts, start: time.Now(), ops: map[string]map[uint]int{}}
	rep := &Report{SourceToken: opts.SourceToken.Label, TargetToken: opts.TargetToken.Label, Started: r.start.UTC()}

	// Inventories first: inventory.Take logs in and out, and SoftHSMv2
	// shares the login state between the sessions of a token.
	var err error
	if r.src = opts.Inventory; r.src == nil {
		if r.src, err = inventory.Take(opts.Source, opts.SourceToken, inventory.Options{PIN: opts.SourcePIN}); err != nil {
			return nil, err
		}
	}
	r.src = settled(r.src)
	if r.dst, err = inventory.Take(opts.Target, opts.TargetToken, inventory.Options{PIN: opts.TargetPIN}); err != nil {
		return nil, err
	}
	if r.dstS, err = openSide(opts.Target, opts.TargetToken, opts.TargetPIN); err != nil {
		return nil, err
	}
	defer r.dstS.Close()
	if opts.Source != nil {
		if r.srcS, err = openSide(opts.Source, opts.SourceToken, opts.SourcePIN); err != nil {
			return nil, err
		}
		defer r.srcS.Close()
	}

	deferExec := opts.ReleaseTarget != nil && len(opts.Exec) > 0
	for n, c := range []check{
		checkModule, checkMechanisms, checkObjects, checkSigning, checkWrapping,
		checkCertificates, checkExec, checkAudit, checkPINs, checkRegenerated,
	} {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var res Result
		if n+1 != execItem || !deferExec {
			res = c(ctx, r)
		}
		res.Num, res.Item = n+1, itemText[n+1]
		rep.Items = append(rep.Items, res)
	}
	if deferExec {
		rep.Items[execItem-1] = r.execAfterRelease(ctx)
	}
	rep.Count()
	return rep, nil
}

// execItem is the checklist number of the application transaction.
const execItem = 7

// execAfterRelease closes craton's sessions, lets go of the target and
// then runs the application transaction, which needs the target to itself.
func (r *run) execAfterRelease(ctx context.Context) Result {
	r.dstS.Close()
	if r.srcS != nil {
		r.srcS.Close()
	}
	res := Result{Status: Fail, Evidence: "could not release the target before the transaction"}
	if err := r.opts.ReleaseTarget(); err != nil {
		res.Details = []string{err.Error()}
	} else {
		res = checkExec(ctx, r)
		res.Evidence += " (run after the other items, with the target released)"
	}
	res.Num, res.Item = execItem, itemText[execItem]
	return res
}

// openSide opens a read-only session (session objects only) and logs in
// when a PIN is given. A wrong PIN is not retried.
func openSide(m p11.Module, tok p11.Token, pin string) (*p11.Session, error) {
	s, err := p11.OpenSession(m, tok, false)
	if err != nil {
		return nil, err
	}
	if pin != "" {
		if err := s.Login(pkcs11.CKU_USER, pin); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// did records one successful target operation for the audit check.
func (r *run) did(op string, mech uint) {
	if r.ops[op] == nil {
		r.ops[op] = map[uint]int{}
	}
	r.ops[op][mech]++
}

// settled returns a copy of the pre-migration inventory in which the
// public half and the certificate of a regenerated private key are
// regenerate, as inventory.Take records them; a CSV written by an older
// craton still says copy for them. The caller's inventory is not changed.
func settled(inv *inventory.Inventory) *inventory.Inventory {
	c := *inv
	c.Records = append([]inventory.Record(nil), inv.Records...)
	inventory.FollowRegenerated(c.Records)
	return &c
}

// migrated returns the pre-migration records moved by wrap or copy. When
// a plan is given its action decides (wrap, copy or skip = on the target;
// the operator may have edited it); otherwise the inventory's disposition
// does. Both derive from the same inventory dispositions
// (wrapmove.MakePlan), so a regenerated pair's public half and certificate
// are never expected on the target.
func (r *run) migrated(class string) []inventory.Record {
	planned := map[string]string{}
	if r.opts.Plan != nil {
		for _, a := range r.opts.Plan.Actions {
			planned[key(normClass(a.Class), a.ID, a.Label)] = a.Action
		}
	}
	var out []inventory.Record
	for _, rec := range r.src.Records {
		if class != "" && rec.Class != class {
			continue
		}
		moved := rec.Disposition == inventory.Wrap || rec.Disposition == inventory.Copy
		if act, ok := planned[recKey(rec)]; ok {
			moved = act == wrapmove.ActWrap || act == wrapmove.ActCopy || act == wrapmove.ActSkip
		}
		if moved {
			out = append(out, rec)
		}
	}
	return out
}

// result builds a Result from per-object outcomes: any failure fails the
// item, else any warning warns it; none at all is SKIP with skipWhy.
type tally struct {
	pass, fail, warn int
	details          []string
}

func (t *tally) ok(format string, a ...any)   { t.pass++; t.add("ok: "+format, a...) }
func (t *tally) bad(format string, a ...any)  { t.fail++; t.add("FAIL: "+format, a...) }
func (t *tally) note(format string, a ...any) { t.warn++; t.add("WARN: "+format, a...) }

func (t *tally) add(format string, a ...any) {
	t.details = append(t.details, sprintf(format, a...))
}

func (t *tally) result(what, skipWhy string) Result {
	n := t.pass + t.fail + t.warn
	switch {
	case n == 0:
		return Result{Status: Skip, Evidence: skipWhy, Details: t.details}
	case t.fail > 0:
		return Result{Status: Fail, Evidence: sprintf("%d of %d %s failed", t.fail, n, what), Details: t.details}
	case t.warn > 0:
		return Result{Status: Warn, Evidence: sprintf("%d of %d %s passed, %d with warnings", t.pass, n, what, t.warn), Details: t.details}
	}
	return Result{Status: Pass, Evidence: sprintf("%d/%d %s passed", t.pass, n, what), Details: t.details}
}
