package p11

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/craton-co/craton/errs"
	"github.com/miekg/pkcs11"
)

// Loaded is an opened module. Close it when done: the underlying library is
// finalised and unloaded when its last user closes.
type Loaded struct {
	Module
	Path    string // the module path as given, or "embedded"
	release func() error
	once    sync.Once
}

// Close releases this reference. Safe to call more than once.
func (l *Loaded) Close() error {
	var err error
	l.once.Do(func() {
		if l.release != nil {
			err = l.release()
		}
	})
	return err
}

// NewLoaded wraps an already-initialised module (the embedded engine, a
// fake) so that it can be used where a *Loaded is expected.
func NewLoaded(m Module, path string, release func() error) *Loaded {
	return &Loaded{Module: m, Path: path, release: release}
}

type libEntry struct {
	ctx  *pkcs11.Ctx
	refs int
}

var (
	libMu sync.Mutex
	libs  = map[string]*libEntry{} // keyed by the resolved path
)

// OpenLibrary loads the PKCS#11 shared library at path and calls
// C_Initialize once per process; later opens of the same library share it
// (reference-counted), different libraries coexist.
func OpenLibrary(path string) (*Loaded, error) {
	key, err := resolve(path)
	if err != nil {
		return nil, err
	}
	libMu.Lock()
	defer libMu.Unlock()
	e := libs[key]
	if e == nil {
		ctx := pkcs11.New(key)
		if ctx == nil {
			return nil, &errs.Error{Kind: errs.KindModule, Op: "load " + path,
				Msg:  "dlopen failed or the library exports no C_GetFunctionList",
				Hint: "point --module at a PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so)"}
		}
		if err := ctx.Initialize(); err != nil && !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, moduleInitError(path, err)
		}
		e = &libEntry{ctx: ctx}
		libs[key] = e
	}
	e.refs++
	return &Loaded{Module: e.ctx, Path: path, release: func() error { return releaseLib(key) }}, nil
}

func releaseLib(key string) error {
	libMu.Lock()
	defer libMu.Unlock()
	e := libs[key]
	if e == nil {
		return nil
	}
	e.refs--
	if e.refs > 0 {
		return nil
	}
	delete(libs, key)
	err := e.ctx.Finalize()
	e.ctx.Destroy()
	if err != nil {
		return Wrap("C_Finalize", err)
	}
	return nil
}

func resolve(path string) (string, error) {
	if path == "" {
		return "", errs.Usage("no module path given", "pass --module PATH or --module embedded")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", errs.Usage(fmt.Sprintf("module path %q: %v", path, err), "pass an absolute path")
	}
	st, err := os.Stat(abs)
	if err != nil {
		hint := "install the module or fix the path"
		if errors.Is(err, os.ErrNotExist) && path == DefaultSoftHSM {
			hint = "install SoftHSMv2 (apt-get install softhsm2) or pass --from-module"
		}
		return "", &errs.Error{Kind: errs.KindModule, Op: "load " + path, Msg: "module file not found", Hint: hint, Err: err}
	}
	if st.IsDir() {
		return "", &errs.Error{Kind: errs.KindModule, Op: "load " + path, Msg: "is a directory, not a shared library",
			Hint: "point at the .so file itself"}
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs, nil
}

func moduleInitError(path string, err error) error {
	e := Wrap("C_Initialize of "+path, err).(*errs.Error)
	e.Kind = errs.KindModule
	if e.Hint == "" {
		e.Hint = "check the module's own configuration (for SoftHSMv2: SOFTHSM2_CONF and its tokendir)"
	}
	return e
}

// DefaultSoftHSM is where Debian installs SoftHSMv2's module.
const DefaultSoftHSM = "/usr/lib/softhsm/libsofthsm2.so"
