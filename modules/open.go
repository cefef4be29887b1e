package modules

import (
	"errors"

	"github.com/craton-co/craton/errs"
	"github.com/craton-co/craton/hsm"
	"github.com/craton-co/craton/hsm/config"
	"github.com/craton-co/craton/p11"
)

// Embedded is the module name of the in-process Craton HSM engine.
const Embedded = "embedded"

// Open opens the module named by spec. For the embedded engine, configPath
// is its YAML configuration ("" = $CRATON_HSM_CONFIG, ./craton_hsm.yaml or
// the defaults); it is ignored for a shared library.
func Open(spec, configPath string) (*p11.Loaded, error) {
	if spec == Embedded {
		return OpenEmbedded(configPath)
	}
	return p11.OpenLibrary(spec)
}

// OpenEmbedded starts the engine in this process: loads its configuration,
// opens (and locks) its store, and runs the power-on self-tests.
func OpenEmbedded(configPath string) (*p11.Loaded, error) {
	cfg, _, err := config.Load(configPath)
	if err != nil {
		return nil, err
	}
	return OpenEngine(cfg)
}

// OpenEngine starts the engine with an already-loaded configuration.
func OpenEngine(cfg config.Config) (*p11.Loaded, error) {
	ctx, err := hsm.Open(cfg)
	if err != nil {
		// A store that cannot be opened (full disk, read-only or missing
		// directory) is the engine failing to start, like any I/O error.
		var e *errs.Error
		storeOpen := errors.As(err, &e) && e.Op == "open store" && e.Kind == errs.KindState
		if errs.KindOf(err) == errs.KindInternal || storeOpen {
			return nil, &errs.Error{Kind: errs.KindModule, Op: "start the embedded Craton HSM engine",
				Msg: err.Error(), RV: p11.RV(err), Err: err,
				Hint: "check token.storage_path and audit.log_path in the engine config (--config)"}
		}
		return nil, err
	}
	return p11.NewLoaded(ctx, Embedded, ctx.Finalize), nil
}

// Engine returns the engine behind l, when l is the embedded module.
func Engine(l *p11.Loaded) (*hsm.Ctx, bool) {
	ctx, ok := l.Module.(*hsm.Ctx)
	return ctx, ok
}
