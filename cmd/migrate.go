package cmd

import (
	"github.com/craton-co/craton/internal/iostreams"
	"github.com/craton-co/craton/modules"
	"github.com/craton-co/craton/p11"
	"github.com/craton-co/craton/pin"
	"github.com/spf13/cobra"
)

func newMigrateCmd(io *iostreams.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Move a SoftHSMv2 (or any PKCS#11) token onto Craton HSM",
		Long: `The migration guide as commands: inventory the source token, compare
mechanisms, plan, move extractable keys by wrap/unwrap (proving each),
regenerate what cannot leave, then verify the cutover checklist.`,
	}
	c.AddCommand(newInventoryCmd(io, nil), newMechanismsCmd(io), newPlanCmd(io), newMoveCmd(io), newRegenerateCmd(io), newVerifyCmd(io))
	return c
}

// endpoint is one side of a migration (or the one module of a command):
// the module, its token, and the user's PIN.
type endpoint struct {
	mod   *p11.Loaded
	token p11.Token
	sess  *p11.Session
}

func (e *endpoint) close() {
	if e.sess != nil {
		e.sess.Close()
	}
	if e.mod != nil {
		_ = e.mod.Close()
	}
}

// openEndpoint opens the module, selects the token by label, opens a
// session and, when pinSrc is non-nil, logs in once with the PIN it yields.
// It returns the PIN too: inventory and move need it for their own sessions.
func openEndpoint(io *iostreams.IOStreams, mf ModuleFlags, pinSrc *pin.Source, rw bool) (*endpoint, string, error) {
	mod, err := modules.Open(mf.Module, mf.Config)
	if err != nil {
		return nil, "", err
	}
	e := &endpoint{mod: mod}
	if e.token, err = p11.FindToken(mod, mf.Token, mf.Serial); err != nil {
		e.close()
		return nil, "", err
	}
	var userPIN string
	if pinSrc != nil {
		if userPIN, err = pinSrc.Read(io, io.ErrOut); err != nil {
			e.close()
			return nil, "", err
		}
	}
	if e.sess, err = p11.OpenSession(mod, e.token, rw); err != nil {
		e.close()
		return nil, "", err
	}
	return e, userPIN, nil
}
